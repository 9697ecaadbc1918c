"""Writes: verb-named functions with keyword-only arguments; interfaces call these."""
