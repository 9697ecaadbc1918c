"""The contract every backend keeps, run against each one's real engine.

Add a backend: write its engine fixture `<name>_engine` in tests/llm/engines/<name>.py; it is
found and run here (tests/llm/conftest.py imports them all).
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from llm import (
    BackendUnavailable,
    CannotContinue,
    ChatMessage,
    Completion,
    ContextWindowExceeded,
    ExtractionFailed,
    InvalidOptions,
)
from tests.llm.conftest import ENGINES
from tests.llm.engines import Engine

pytestmark = pytest.mark.slow

PROMPT = [
    ChatMessage("system", "You are a concise assistant."),
    ChatMessage("user", "List five fruits, separated by commas."),
]


@pytest.fixture(params=ENGINES, ids=lambda name: name.removesuffix("_engine"))
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


class Lead(BaseModel):
    name: str | None = Field(None, description="the visitor's name")
    company: str | None = Field(None, description="the visitor's company")
    seats: int | None = Field(None, ge=1, description="how many seats they need")


def test_complete_returns_text_usage_and_timings(engine: Engine):
    completion = engine.model.complete(PROMPT, greedy=True, max_tokens=24)
    assert completion.text.strip()
    assert completion.finish_reason in {"stop", "length"}
    assert completion.usage.completion_tokens > 0
    assert completion.timings.total > 0


def test_stream_chunks_join_to_the_final_text(engine: Engine):
    items = list(engine.model.stream(PROMPT, greedy=True, max_tokens=24))
    *chunks, completion = items
    assert isinstance(completion, Completion)
    assert len(chunks) > 1 and all(isinstance(c, str) and c for c in chunks)
    assert "".join(chunks) == completion.text


def test_greedy_streaming_and_complete_agree(engine: Engine):
    whole = engine.model.complete(PROMPT, greedy=True, max_tokens=16).text
    streamed = list(engine.model.stream(PROMPT, greedy=True, max_tokens=16))[-1]
    assert isinstance(streamed, Completion) and streamed.text == whole


def test_max_tokens_is_honoured(engine: Engine):
    completion = engine.model.complete(PROMPT, greedy=True, max_tokens=4)
    assert completion.finish_reason == "length"
    assert 1 <= completion.usage.completion_tokens <= 4


def test_a_stop_sequence_ends_the_text_before_it(engine: Engine):
    free = engine.model.complete(PROMPT, greedy=True, max_tokens=32).text
    assert len(free.strip()) >= 8, f"need some text to pick a stop from: {free!r}"
    middle = len(free) // 2
    stop = free[middle : middle + 3]
    stopped = engine.model.complete(PROMPT, greedy=True, max_tokens=32, stop=[stop])
    assert stop not in stopped.text
    assert stopped.text == free[: free.index(stop)]
    assert stopped.finish_reason == "stop"


def test_a_reply_begun_elsewhere_is_continued_from_its_last_word(engine: Engine):
    """What a chain's next model does when the one before it failed mid-reply: given the
    reply's words so far as the start of its turn, greedy decoding writes what the model
    would have written next, rather than a new reply, or the words again."""
    *chunks, whole = list(engine.model.stream(PROMPT, greedy=True, max_tokens=24))
    assert isinstance(whole, Completion)
    # Cut where a word begins, as a failure could: after the third chunk or later.
    cut = next(i for i in range(3, len(chunks)) if chunks[i][:1].isspace())
    begun = [*PROMPT, ChatMessage("assistant", "".join(chunks[:cut]))]
    if not engine.model.can_continue:
        with pytest.raises(CannotContinue):
            engine.model.complete(begun)
        return
    rest = engine.model.complete(begun, greedy=True, max_tokens=24 - cut)
    if engine.coherent:
        assert "".join(chunks[:cut]) + rest.text == whole.text
    else:  # random weights: the begun text, tokenized afresh, may take other tokens
        assert rest.usage.completion_tokens > 0


EXTRACT_CHAT = [
    ChatMessage("system", "Extract the visitor's details. Use null for what is unknown."),
    ChatMessage("user", "Hi, I'm Jane Doe from Acme Corp and we need 12 seats."),
]


def test_extract_returns_a_valid_instance_or_a_typed_error(engine: Engine):
    if engine.coherent:
        assert isinstance(engine.model.extract(EXTRACT_CHAT, Lead, max_tokens=96), Lead)
    else:
        with pytest.raises(ExtractionFailed):
            engine.model.extract(EXTRACT_CHAT, Lead, max_tokens=32, attempts=2)


@pytest.mark.parametrize("options", [{"temperature": -1}, {"max_tokens": 0}, {"nucleus": 0.9}])
def test_invalid_options_raise_a_typed_error(engine: Engine, options):
    with pytest.raises(InvalidOptions):
        engine.model.complete(PROMPT, **options)


def test_an_absent_model_or_server_is_unavailable(engine: Engine):
    with pytest.raises(BackendUnavailable):
        engine.unavailable().complete(PROMPT, max_tokens=4)


def test_a_prompt_beyond_the_context_window_is_a_typed_error(engine: Engine):
    huge = "word " * (engine.context_window * 2)
    with pytest.raises(ContextWindowExceeded):
        engine.model.complete([ChatMessage("user", huge)], max_tokens=8)
