"""Reads, by what they read: `conversations`, `leads` (facts, what a reply knows), `access`
(who sees which sites and leads), `widget` (what the widget's configuration serves). Every
interface — consumer, task, view, admin — reads through these, so they all see the same."""
