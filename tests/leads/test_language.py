"""The visitor's language (leads/language.py): told from what they write, kept for what is too
short or too unclear to tell."""

from __future__ import annotations

import pytest

from leads.language import DEFAULT, language_of


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("How much does it cost for 10 users?", "en"),
        ("Is my data stored in the EU?", "en"),
        ("My boss decides, I'm collecting options. We need it by March.", "en"),
        ("Hola, ¿tienen soporte en español?", "es"),
        ("Me llamo Ana y trabajo en Initech", "es"),
        ("Kann ich monatlich kündigen?", "de"),
        ("Wir sind 200 Leute und suchen ein Dashboard", "de"),
        ("Proposez-vous une formation ?", "fr"),
        ("Nous cherchons un outil pour notre équipe", "fr"),
        ("Olá, vocês têm suporte em português?", "pt"),
        ("Quanto costa il piano per dieci persone?", "it"),
        ("Hebben jullie ondersteuning in het Nederlands?", "nl"),
        # Too short for the model: a greeting or a thank-you names its own language.
        ("Hola", "es"),
        ("Hi!", "en"),
        ("Danke", "de"),
        ("Merci beaucoup", "fr"),
        ("Bom dia", "pt"),
    ],
)
def test_the_language_of_a_message(text, language):
    assert language_of(text) == language


@pytest.mark.parametrize("text", ["ok", "Ana Torres", "ana@lumio.io", "+34 600 123 456", "40", ""])
def test_what_is_too_short_to_tell_keeps_the_conversations_language(text):
    assert language_of(text, previous="de") == "de"
    assert language_of(text) == DEFAULT


def test_an_unknown_previous_language_falls_back_to_the_default():
    assert language_of("ok", previous="xx") == DEFAULT
