"""A warm conversation on the real bundled model: llama.cpp's own counters show what it reads.

`Usage.cached_tokens` is the prompt minus the tokens llama.cpp evaluated for the call
(`llama_perf_context().n_p_eval`), so these tests count the engine's work, not ours.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest

from llm import ChatMessage, ModelConfig, Options, registry
from llm.backends.llama_cpp import LlamaCppLLM
from llm.backends.llama_states import SavedState, StateCache, chat_key, shared_turns

MODELS = Path(__file__).resolve().parents[2] / "models"
ACME = "You are the sales assistant of Acme Logistics. We move freight across Europe. " * 6
ZETA = "You are the sales assistant of Zeta Analytics. We build sales dashboards. " * 6


@pytest.fixture(scope="module")
def model() -> LlamaCppLLM:
    config = ModelConfig(
        model_path=MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf",
        n_ctx=2048,
        defaults=Options(max_tokens=24, greedy=True),
        backend_options={"prompt_cache_mb": 64},
    )
    built = registry.build(config)
    assert isinstance(built, LlamaCppLLM)
    yield built
    built.close()


def _chat(system: str, *turns: str) -> list[ChatMessage]:
    roles = ["user", "assistant"]
    return [ChatMessage("system", system)] + [
        ChatMessage(roles[i % 2], text)  # type: ignore[arg-type]  # alternating roles
        for i, text in enumerate(turns)
    ]


@pytest.mark.slow
def test_a_second_turn_evaluates_only_the_new_message(model: LlamaCppLLM):
    first = model.complete(_chat(ACME, "Do you ship to Spain?"))
    assert first.usage.cached_tokens < first.usage.prompt_tokens
    second = model.complete(_chat(ACME, "Do you ship to Spain?", first.text, "And to Italy?"))
    new = second.usage.prompt_tokens - second.usage.cached_tokens
    # The first prompt and the reply generated from it are already in the context.
    assert second.usage.cached_tokens >= first.usage.prompt_tokens
    assert new <= model.count_tokens("And to Italy?") + 12, second.usage


@pytest.mark.slow
def test_a_conversation_comes_back_warm_after_another_took_the_context(model: LlamaCppLLM):
    a = _chat(ACME, "We need 40 pallets moved each week.")
    reply = model.complete(a).text
    model.complete(_chat(ZETA, "Hello, who are you?"))  # another Site's visitor in between
    back = model.complete([*a, ChatMessage("assistant", reply), ChatMessage("user", "Price?")])
    assert back.usage.prompt_tokens - back.usage.cached_tokens <= 20, back.usage


@pytest.mark.slow
def test_a_new_conversation_starts_from_its_sites_evaluated_system_prompt(model: LlamaCppLLM):
    model.complete(_chat(ACME, "Hi there"))
    model.complete(_chat(ZETA, "Hi there"))
    fresh = model.complete(_chat(ACME, "Do you have a warehouse in Lyon?"))
    assert fresh.usage.cached_tokens >= model.count_tokens(ACME), fresh.usage


@pytest.mark.slow
def test_a_sites_system_prompt_warmed_before_any_visitor_is_not_read_again():
    fresh = registry.build(ModelConfig(model_path=MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    try:
        assert fresh.warm([ChatMessage("system", ACME)])
        first = fresh.complete(_chat(ACME, "Do you ship to Spain?"), max_tokens=8)
        assert first.usage.cached_tokens >= fresh.count_tokens(ACME), first.usage
        # The context holds a chat now: warming again would replace it, and does not.
        assert not fresh.warm([ChatMessage("system", ZETA)])
        turn = _chat(ACME, "Do you ship to Spain?", first.text, "And to Italy?")
        second = fresh.complete(turn, max_tokens=8)
        assert second.usage.cached_tokens >= first.usage.prompt_tokens, second.usage
    finally:
        fresh.close()


@pytest.mark.slow
def test_a_reply_stops_after_its_last_sentence_with_the_engines_counts(model: LlamaCppLLM):
    done = model.complete(
        [ChatMessage("user", "Write five sentences about cats.")], max_tokens=200, max_sentences=1
    )
    assert done.finish_reason == "sentences"
    assert done.text.rstrip()[-1] in ".!?", done.text
    # The backend caught the stop and reported what llama.cpp counted.
    assert done.usage.prompt_tokens > 5 and 0 < done.usage.completion_tokens < 200


def _state(key: tuple[tuple[str, str], ...], size: int) -> SavedState:
    return SavedState(key=key, tokens=np.zeros(0, dtype=np.intc), data=(ctypes.c_uint8 * size)())


def test_the_state_cache_restores_the_longest_shared_chat_and_drops_the_oldest():
    cache = StateCache(capacity=250)
    a1 = chat_key(_chat(ACME, "hi"), "hello")
    a2 = (*a1, ("user", "price?"))
    b1 = chat_key(_chat(ZETA, "hi"))
    cache.put(_state(a1, 100))
    cache.put(_state(a2, 100))  # extends a1, which adds nothing more
    assert len(cache) == 1
    cache.put(_state(b1, 100))
    assert cache.best(chat_key(_chat(ACME, "hi", "hello", "price?", "ok", "bye"))) == (
        cache.best(a2)[0],
        4,
    )
    assert cache.best(chat_key(_chat(ZETA, "new visitor")))[1] == 1  # the Site's system prompt
    cache.put(_state((("system", "third"),), 100))  # over capacity: the least recent goes
    assert len(cache) == 2 and cache.best(a2)[1] == 0 and cache.best(b1)[1] == 2
    cache.put(_state((("system", "huge"),), 300))  # larger than the whole cache: not kept
    assert len(cache) == 2


def test_chats_share_turns_up_to_the_first_difference():
    assert shared_turns(chat_key(_chat(ACME, "a", "b")), chat_key(_chat(ACME, "a", "c"))) == 2
    assert shared_turns(chat_key(_chat(ACME)), chat_key(_chat(ZETA))) == 0


def test_a_reply_stored_shorter_than_generated_still_continues_the_chat():
    held = chat_key(_chat(ACME, "hi"), "Hello there! We ship pallets. And")
    stored = chat_key(_chat(ACME, "hi", "Hello there! We ship pallets.", "Price?"))
    assert shared_turns(held, stored) == 3
    other = chat_key(_chat(ACME, "hi", "Good morning.", "Price?"))
    assert shared_turns(held, other) == 2
