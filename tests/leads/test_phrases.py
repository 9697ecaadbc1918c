"""The agent's own words in every language it speaks (leads/phrases.py): each phrase in each
language, each a sentence or two that ends as one, and in the language it claims."""

from __future__ import annotations

import pytest

from leads.fields import TOPIC_NAMES
from leads.language import LANGUAGES, language_of
from leads.phrases import ASK, SAY, ask, say


def test_every_language_asks_for_every_topic_and_says_every_phrase():
    assert set(ASK) == set(SAY) == set(LANGUAGES)
    for language in LANGUAGES:
        assert set(ASK[language]) == set(TOPIC_NAMES), language
        assert set(SAY[language]) == set(SAY["en"]), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_phrase_ends_as_a_sentence_and_reads_as_its_language(language):
    for topic in TOPIC_NAMES:
        question = ask(topic, language=language)
        assert question.rstrip().endswith("?"), question
    for key in SAY[language]:
        text = say(key, language=language, site="Lumio", quote="It is stored in Frankfurt.")
        assert text.rstrip()[-1] in ".!?", text
        assert "{" not in text
    # Long enough to tell: the questions, read together, are in their own language.
    together = " ".join(ask(t, language=language) for t in TOPIC_NAMES)
    assert language_of(together) == language


def test_an_unknown_language_is_answered_in_the_default():
    assert ask("name", language="xx") == ASK["en"]["name"]
    assert say("thanks", language="xx", site="Lumio") == "Thank you."
