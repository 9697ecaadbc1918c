"""Turning a conversation into lead facts, each with the quote that supports it.

Two extractors read every visitor message: `rules` (well-kept libraries and patterns, in
`rules/`) and `model` (the local LLM under a JSON schema, in `model.py`). Both yield
`facts.Candidate`s, which `verify` checks against the message's own words and `merge.resolve`
settles field by field. `pipeline` runs them; `evaluation` scores them. Nothing here touches the
database: the web process (the rules, as a message is stored), the extraction worker (the
model), `manage.py eval_extraction` and `bench/` run the same code.
"""
