from __future__ import annotations

import pytest

from llm import ChatMessage, ContextWindowExceeded, InvalidOptions, Options
from llm.backends.fake import FakeLLM


def test_options_reject_unknown_names():
    with pytest.raises(InvalidOptions, match="temprature"):
        FakeLLM().options(temprature=0.5)


@pytest.mark.parametrize(
    ("name", "value"), [("temperature", 3.0), ("max_tokens", 0), ("top_p", 0.0), ("top_k", -1)]
)
def test_options_reject_out_of_range_values(name, value):
    with pytest.raises(InvalidOptions, match=name):
        FakeLLM().options(**{name: value})


def test_per_call_options_override_model_defaults():
    model = FakeLLM(defaults=Options(max_tokens=10, temperature=0.2))
    merged = model.options(temperature=0.9)
    assert (merged.max_tokens, merged.temperature) == (10, 0.9)


def test_stream_yields_chunks_then_a_completion():
    model = FakeLLM(replies=["Hello there, friend."])
    items = list(model.stream([ChatMessage("user", "hi")]))
    *chunks, completion = items
    assert chunks == ["Hello ", "there, ", "friend."]
    assert completion.text == "Hello there, friend."
    assert completion.finish_reason == "stop"
    assert completion.usage.completion_tokens == 3
    assert completion.timings.time_to_first_token is not None
    assert completion.tokens_per_second is not None and completion.tokens_per_second > 0


def test_complete_stops_at_max_tokens_with_length_reason():
    completion = FakeLLM(replies=["one two three four"]).complete(
        [ChatMessage("user", "hi")], max_tokens=2
    )
    assert (completion.text, completion.finish_reason) == ("one two ", "length")


def test_fit_drops_oldest_turns_but_keeps_system_and_last_message():
    model = FakeLLM(context_window=200)
    system = ChatMessage("system", "rules")
    old = [ChatMessage("user", "x" * 150), ChatMessage("assistant", "y" * 150)]
    last = ChatMessage("user", "latest question")
    kept = model.fit([system, *old, last], max_tokens=64)
    assert kept[0] == system
    assert kept[-1] == last
    assert len(kept) < 4


def test_fit_raises_when_the_last_message_alone_is_too_long():
    model = FakeLLM(context_window=300)
    with pytest.raises(ContextWindowExceeded, match="LLM_N_CTX"):
        model.fit([ChatMessage("user", "z" * 3000)], max_tokens=64)


def test_fake_records_prompts():
    model = FakeLLM()
    model.complete([ChatMessage("user", "ping")])
    assert model.prompts == [[ChatMessage("user", "ping")]]
