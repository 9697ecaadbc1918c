"""The reply guard's checks (leads/claims.py), on the kinds of bad reply issue 17 saw: invented
prices and policies, the visitor's introduction said back, a change of language."""

from __future__ import annotations

import pytest

from leads.claims import Failure, check_sentence, reply_checked, sentences_of, values_in

PASSAGES = [
    "The Team plan costs EUR 12 per seat per month, billed yearly.",
    "All customer data is stored in Frankfurt, Germany, inside the European Union, and never "
    "leaves it. Data is encrypted in transit and at rest.",
    "Yes, 14 days, no credit card needed.",
]
VISITOR = "I'm Ana Torres, head of sales at Initech. We need dashboards for 40 reps."


@pytest.mark.parametrize(
    ("sentence", "failure"),
    [
        # Numbers: from the passages or the visitor, in any spelling; never invented.
        ("The Team plan is 12 € per seat a month.", None),
        ("For 40 reps that would be the Team plan.", None),
        ("You can try it for 14 days.", None),
        ("Initech offers 10 days of unlimited sales for $35 per day.", Failure.AMOUNT),
        ("We give a 20% discount for yearly billing.", Failure.AMOUNT),
        ("It would cost 480 euros a month.", Failure.AMOUNT),  # arithmetic is a claim too
        ("The offer ends on March 31.", Failure.AMOUNT),
        # Policies: only as a passage says them.
        ("Your data is stored in Frankfurt, inside the European Union.", None),
        ("No, no data is stored in the EU.", Failure.POLICY),
        # A passage's other sentence denying something does not make this one a denial.
        ("Data is encrypted in transit and at rest.", None),
        ("You can cancel anytime and get a full refund.", Failure.POLICY),
        # The visitor's introduction is theirs.
        ("We need dashboards for 40 reps.", Failure.ECHO),
        ("I'm Ana Torres, head of sales at Initech.", Failure.ECHO),
        ("Dashboards for your 40 reps are what Lumio does.", None),
        # The visitor's language.
        ("Hola, ¿cabeceo en español? Claro que sí, con mucho gusto.", Failure.LANGUAGE),
    ],
)
def test_each_kind_of_claim(sentence, failure):
    assert check_sentence(sentence, visitor=VISITOR, passages=PASSAGES, language="en") == failure


def test_numbers_are_compared_in_one_spelling():
    assert values_in("EUR 1,200.00 or 1.200 €, 12,50 or 12.50; 30%") == {
        "1.200.00",
        "1200",
        "12.50",
        "30",
    }


def test_a_reply_is_checked_sentence_by_sentence():
    checked = reply_checked(
        "Lumio has a Team plan at EUR 12 per seat. We give 20% off for startups! "
        "What is your role?",
        visitor="How much is it?",
        passages=PASSAGES,
        language="en",
    )
    assert [(c.sentence, c.failure) for c in checked] == [
        ("Lumio has a Team plan at EUR 12 per seat.", None),
        ("We give 20% off for startups!", Failure.AMOUNT),
        ("What is your role?", None),
    ]


def test_text_after_the_last_end_is_a_sentence_too():
    assert sentences_of("One. Two? Three without end") == ["One.", "Two?", "Three without end"]
