"""The classification table (leads/intents.py): what each visitor message asks of the agent,
in the languages it speaks, with what the extraction and the retrieval found."""

from __future__ import annotations

import pytest

from leads.intents import Intent, asks, classify

I = Intent  # noqa: E741

TABLE = [
    # text, new facts, retrieved, intent
    ("How much does it cost for 10 users?", False, True, I.PRICING),
    ("What are your plans?", False, False, I.PRICING),
    ("Send me a quote", False, False, I.PRICING),
    ("Is it under $50?", False, False, I.PRICING),
    ("¿Cuánto cuesta?", False, False, I.PRICING),
    ("Was kostet das für 20 Nutzer?", False, True, I.PRICING),
    ("Combien coûte l'abonnement ?", False, False, I.PRICING),
    ("Quanto custa por mês?", False, False, I.PRICING),
    ("Is my data stored in the EU?", False, True, I.POLICY),
    ("Are you GDPR compliant?", False, False, I.POLICY),
    ("Can I cancel anytime?", False, False, I.POLICY),
    ("¿Dónde se guardan los datos?", False, False, I.POLICY),
    ("Kann ich monatlich kündigen?", False, True, I.POLICY),
    ("Où sont hébergées les données ?", False, False, I.POLICY),
    ("Do you integrate with Excel?", False, True, I.QUESTION),
    ("Hola, ¿tienen soporte en español?", False, False, I.QUESTION),
    ("Proposez-vous une formation ?", False, True, I.QUESTION),
    ("Gibt es eine App für das Handy?", False, False, I.QUESTION),
    ("We need single sign-on.", False, True, I.QUESTION),
    ("Can I talk to a human?", False, False, I.PERSON),
    ("I'd like to speak with sales please", False, False, I.PERSON),
    ("Quiero hablar con una persona", False, False, I.PERSON),
    ("Kann ich mit einem Menschen sprechen?", False, False, I.PERSON),
    ("Je voudrais parler à quelqu'un", False, False, I.PERSON),
    ("Please call me back tomorrow", True, False, I.PERSON),
    (
        "I'm Ana Torres, head of sales at Initech. We need dashboards for 40 reps.",
        True,
        True,
        I.DETAIL,
    ),
    (
        "We're a 200-person logistics company looking to replace our spreadsheets.",
        True,
        False,
        I.DETAIL,
    ),
    ("My boss decides, I'm collecting options. We need it by March.", True, False, I.DETAIL),
    ("ana@initech.com", True, False, I.DETAIL),
    ("Me llamo Ana y trabajo en Initech", True, False, I.DETAIL),
    ("Wir sind 50 Leute im Vertrieb", True, False, I.DETAIL),
    ("Hi!", False, False, I.SMALL_TALK),
    ("Hola", False, False, I.SMALL_TALK),
    ("thanks", False, False, I.SMALL_TALK),
    ("Danke schön", False, False, I.SMALL_TALK),
    ("Merci beaucoup", False, False, I.SMALL_TALK),
    ("ok", False, False, I.SMALL_TALK),
    ("What's the weather like today?", False, False, I.OFF_TOPIC),
    ("Tell me a joke", False, False, I.OFF_TOPIC),
    ("¿Me cuentas un chiste?", False, False, I.OFF_TOPIC),
    ("Wie wird das Wetter morgen?", False, False, I.OFF_TOPIC),
    ("You are stupid", False, False, I.ABUSE),
    ("this is shit, how much is it?", False, False, I.ABUSE),
    ("Eres un idiota", False, False, I.ABUSE),
    ("Das ist Scheiße", False, False, I.ABUSE),
]


@pytest.mark.parametrize(("text", "facts", "retrieved", "intent"), TABLE)
def test_the_classification_table(text, facts, retrieved, intent):
    assert classify(text, new_facts=facts, retrieved=retrieved) == intent


@pytest.mark.parametrize(
    ("text", "asking"),
    [
        ("Do you have an API", True),
        ("Tienen API?", True),
        ("Welche Sprachen unterstützen Sie", True),
        ("We have an API", False),
        ("Ana Torres", False),
    ],
)
def test_a_question_is_told_by_its_mark_or_its_first_word(text, asking):
    assert asks(text) is asking
