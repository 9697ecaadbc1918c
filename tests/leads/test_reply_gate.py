"""The sentence gate: a model's sentences reach the visitor whole and checked, or not at all."""

from __future__ import annotations

from leads.reply_gate import ASKS, LONG, UNFINISHED, SentenceGate, joined

PASSAGE = "The Team plan costs 25 euros per user per month. All data is stored in the EU."


def gate(**kwargs: object) -> SentenceGate:
    options: dict = {"visitor": "We are 40 reps.", "passages": [PASSAGE], "language": "en"}
    return SentenceGate(**(options | {"max_sentences": 3} | kwargs))


def test_a_sentence_goes_out_only_once_it_is_finished():
    g = gate()
    assert g.feed("Thanks for the") == []
    assert g.feed(" details. The Team") == ["Thanks for the details."]
    assert g.feed(" plan costs 25 euros per user per month. ") == [
        "The Team plan costs 25 euros per user per month."
    ]
    assert g.finish() == []


def test_an_invented_price_mid_stream_is_withheld_and_the_rest_stands():
    g = gate()
    shown = g.feed("Good question. Initech gets 10 days for $35 per day. ")
    shown += g.feed("It suits teams of 40 reps. ")
    assert shown == ["Good question.", "It suits teams of 40 reps."]
    assert g.withheld_record() == [
        {"sentence": "Initech gets 10 days for $35 per day.", "failures": ["amount"]}
    ]


def test_an_invented_policy_and_an_echo_are_withheld():
    g = gate(visitor="We're a 200-person logistics company looking to replace spreadsheets.")
    g.feed("No, no data is stored in the EU. ")
    g.feed("We're a 200-person logistics company looking to replace spreadsheets. ")
    g.feed("All data is stored in the EU. ")
    assert g.passed == ["All data is stored in the EU."]
    assert [f for _, f in g.withheld] == [["policy"], ["echo"]]


def test_a_sentence_the_budget_cut_short_is_never_shown():
    g = gate()
    g.feed("Happy to help. The Team plan is")
    assert g.finish(ended=False) == []
    assert g.withheld_record()[-1] == {"sentence": "The Team plan is", "failures": [UNFINISHED]}
    ended = gate()
    ended.feed("Happy to help. See you soon")  # the model stopped: its last sentence is whole
    assert ended.finish() == ["See you soon"]


def test_no_more_than_the_sentences_it_may_have_and_then_it_is_full():
    g = gate(max_sentences=2)
    assert g.feed("One. Two. Three. ") == ["One.", "Two."]
    assert g.full and g.finish() == []


def test_a_gate_for_an_acknowledgement_holds_back_questions_and_long_sentences():
    g = gate(asking=False, max_words=6)
    g.feed("What is your budget? ")
    g.feed("Thanks, that helps a lot with planning the rollout. ")
    assert g.feed("Thanks, noted. ") == ["Thanks, noted."]
    assert [f for _, f in g.withheld] == [[ASKS], [LONG]]


def test_a_sentence_in_another_language_is_withheld():
    g = gate(language="es")
    assert g.feed("Gracias por los detalles, lo tengo en cuenta. ") == [
        "Gracias por los detalles, lo tengo en cuenta."
    ]
    assert g.feed("Thanks for sharing the details of your team with me. ") == []
    assert g.withheld[-1][1] == ["language"]


def test_the_next_try_keeps_what_was_withheld_on_record():
    g = gate()
    g.feed("It costs $99. ")
    again = g.again()
    assert again.passed == [] and again.withheld == g.withheld


def test_sentences_join_a_stream_with_one_space():
    assert joined(["A.", "B."]) == "A. B."
    assert joined(["C."], after="A. B.") == " C."
    assert joined([], after="A.") == ""


def test_a_sentence_is_one_chat_line():
    g = gate()
    assert g.feed("Dear Ana,\n\nwelcome aboard. ") == ["Dear Ana, welcome aboard."]
