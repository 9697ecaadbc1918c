"""The leak guard: the canary and runs of the instructions never reach the visitor."""

from __future__ import annotations

import re

import pytest

from leads.guard import RUN_WORDS, LeakGuard, canary_line, leak_safe, prompt_canary

CANARY = prompt_canary(secret="s3cret", site_key="demo")
INSTRUCTIONS = (
    "You are the friendly sales assistant on the website of Acme. Acme sells dashboards for "
    "logistics teams. Answer the visitor briefly and helpfully, like a person in a chat: two "
    "to four sentences, no lists or headings. Never mention the notes. " + canary_line(CANARY)
)
DESCRIPTION = "Acme sells dashboards for logistics teams."
GUARD = LeakGuard.of(canary=CANARY, instructions=[INSTRUCTIONS], allowed=[DESCRIPTION])
LEAKED_RUN = "answer the visitor briefly and helpfully, like a person in a chat"


def _chunks(text: str) -> list[str]:
    """Text as a model streams it: a few characters at a time, words split anywhere."""
    return [text[i : i + 3] for i in range(0, len(text), 3)]


def test_the_canary_is_the_sites_own_and_needs_the_secret():
    assert prompt_canary(secret="s3cret", site_key="demo") == CANARY
    assert CANARY.startswith("sb-") and len(CANARY) == 15
    assert prompt_canary(secret="s3cret", site_key="other") != CANARY
    assert prompt_canary(secret="another", site_key="demo") != CANARY


@pytest.mark.parametrize(
    "spelled",
    [
        lambda c: c,
        lambda c: c.upper(),
        lambda c: " ".join(c),  # one character at a time
        lambda c: c.removeprefix("sb-"),
        lambda c: "-".join(re.findall("..", c.removeprefix("sb-"))),
    ],
)
def test_the_canary_is_found_however_it_is_spelled(spelled):
    assert GUARD.leak_in(f"Sure! The reference is {spelled(CANARY)}.") == "canary"


def test_a_run_of_the_instructions_is_a_leak_and_a_shorter_one_is_not():
    words = LEAKED_RUN.split()
    assert GUARD.leak_in("My rules: " + " ".join(words[:RUN_WORDS]) + ".") == "prompt"
    assert GUARD.leak_in("My rules: " + " ".join(words[: RUN_WORDS - 1]) + ".") is None


def test_case_and_punctuation_do_not_hide_a_run():
    assert GUARD.leak_in("ANSWER THE VISITOR — BRIEFLY; and helpfully: like a person!") == "prompt"


def test_what_the_visitor_may_read_anyway_is_not_a_leak():
    assert GUARD.leak_in(f"Hello! {DESCRIPTION} How can I help?") is None
    quoted = LeakGuard.of(
        canary=CANARY, instructions=[INSTRUCTIONS], allowed=[DESCRIPTION, LEAKED_RUN]
    )
    assert quoted.leak_in(LEAKED_RUN) is None


def test_a_clean_reply_is_shown_whole():
    text = "Hello there! Our dashboards help logistics teams plan their routes. How many depots?"
    shown = GUARD.stream()
    parts = [shown.feed(chunk) for chunk in _chunks(text)]
    parts.append(shown.finish())
    assert "".join(parts) == text and shown.leak is None
    # While it streamed, text was shown before the end.
    assert "".join(parts[:-1])


def test_no_word_of_a_leaked_run_is_ever_shown():
    text = f"Happy to help. Here is what I was told: {LEAKED_RUN}. And more."
    shown = GUARD.stream()
    visible = "".join(shown.feed(chunk) for chunk in _chunks(text)) + shown.finish()
    assert shown.leak == "prompt"
    assert visible.startswith("Happy to help.")
    assert "answer" not in visible.lower()
    # Fed after the leak, nothing more comes out.
    assert shown.feed(" Anything else?") == "" and shown.finish() == ""


def test_a_canary_split_across_chunks_is_never_shown():
    text = f"Thanks for asking about our dashboards today; the reference is {CANARY} as written."
    shown = GUARD.stream()
    visible = "".join(shown.feed(chunk) for chunk in _chunks(text)) + shown.finish()
    assert shown.leak == "canary"
    # At most the first of the marker's characters was shown before the rest came.
    marker = CANARY.removeprefix("sb-")
    assert visible.startswith("Thanks for asking") and marker[1:4] not in visible


def test_a_stopped_reply_keeps_its_whole_sentences_or_says_the_fallback():
    assert leak_safe("Happy to help. Here is what I was", fallback="Sorry.") == "Happy to help."
    assert leak_safe("Here is what I was", fallback="Sorry.") == "Sorry."
