"""Where sentences end in a stream, and replies that stop after their last one."""

from __future__ import annotations

import pytest

from llm import ChatMessage
from llm.backends.fake import FakeLLM
from llm.sentences import SentenceCut, sentence_ends


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Hi there! We sell widgets. Want one?", ["Hi there!", "We sell widgets.", "Want one?"]),
        ("We ship e.g. pallets. Mr. Smith agrees.", ["We ship e.g. pallets.", "Mr. Smith agrees."]),
        ("It costs 3.5 dollars. Cheap.", ["It costs 3.5 dollars.", "Cheap."]),
        ("Ask J. Doe today. Thanks", ["Ask J. Doe today."]),
        ('He said "yes." Then left.', ['He said "yes."', "Then left."]),
        ("Options:\n1. Basic\n2. Pro. Pick one.", ["Options:\n1. Basic\n2. Pro.", "Pick one."]),
        ("好的\u3002谢谢\uff01", ["好的\u3002", "谢谢\uff01"]),  # CJK marks need no space
    ],
)
def test_sentences_end_where_a_reader_would_say(text, sentences):
    ends = sentence_ends(text, final=True)
    found = [text[a:b].strip() for a, b in zip([0, *ends], ends, strict=False)]
    assert found == sentences


def test_punctuation_at_the_end_of_unfinished_text_is_not_yet_an_end():
    assert sentence_ends("It costs 3.") == []  # it may go on as "3.5"
    assert sentence_ends("It costs 3.", final=True) == [len("It costs 3.")]


def test_a_cut_keeps_whole_sentences_and_drops_the_next_ones_start():
    cut = SentenceCut(2)
    kept = "".join(
        cut.feed(c) for c in ["Hello", " there.", " We", " do", " it!", " Next", " one."]
    )
    assert kept == "Hello there. We do it!" and cut.done


def test_a_cut_counts_the_sentences_of_the_text_before_the_stream():
    cut = SentenceCut(2, prefix="Hello there. We")  # a reply another model began
    kept = "".join(cut.feed(c) for c in [" do", " it!", " Next", " one."])
    assert kept == " do it!" and cut.done
    assert SentenceCut(1, prefix="Done. And").done  # nothing more may come


def test_no_limit_passes_everything_through():
    cut = SentenceCut(None)
    assert [cut.feed(c) for c in ["A. ", "B. ", "C."]] == ["A. ", "B. ", "C."] and not cut.done


def test_a_stream_stops_after_max_sentences_on_any_backend():
    model = FakeLLM(replies=["First one. Second one! Third one? Fourth."])
    items = list(model.stream([ChatMessage("user", "hi")], max_sentences=2))
    *chunks, completion = items
    assert "".join(chunks) == completion.text == "First one. Second one!"
    assert completion.finish_reason == "sentences"
