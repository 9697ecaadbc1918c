"""The llama.cpp backend on the real bundled SmolLM2 GGUF."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm import BackendUnavailable, ChatMessage, Completion, ModelConfig, Options, registry
from llm.backends.llama_cpp import LlamaCppLLM

MODELS = Path(__file__).resolve().parents[2] / "models"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model() -> LlamaCppLLM:
    config = ModelConfig(
        model_path=MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf",
        n_ctx=1024,
        defaults=Options(max_tokens=24, seed=7),
    )
    built = registry.build(config)
    assert isinstance(built, LlamaCppLLM)
    return built


PROMPT = [
    ChatMessage("system", "You are a helpful assistant."),
    ChatMessage("user", "Name one colour."),
]


def test_streams_text_chunks_then_a_completion(model: LlamaCppLLM):
    items = list(model.stream(PROMPT))
    *chunks, completion = items
    assert isinstance(completion, Completion)
    assert len(chunks) >= 2 and all(isinstance(c, str) for c in chunks)
    assert completion.text == "".join(chunks)
    assert completion.usage.completion_tokens == len(chunks)
    assert completion.usage.prompt_tokens > 10
    assert completion.timings.time_to_first_token is not None


def test_greedy_generation_is_reproducible(model: LlamaCppLLM):
    first = model.complete(PROMPT, greedy=True, max_tokens=12)
    second = model.complete(PROMPT, greedy=True, max_tokens=12)
    assert first.text == second.text


def test_max_tokens_ends_with_length(model: LlamaCppLLM):
    completion = model.complete(
        [ChatMessage("user", "Count from one to one hundred in words.")], max_tokens=5
    )
    assert completion.finish_reason == "length"
    assert completion.usage.completion_tokens == 5


def test_token_counts_come_from_the_model_tokenizer(model: LlamaCppLLM):
    assert model.count_tokens("hello") == 1
    assert model.count_tokens("hello world, how are you today?") > 5


def test_long_history_is_trimmed_to_fit_the_context(model: LlamaCppLLM):
    history = [ChatMessage("user", "tell me more " * 60)] * 6
    completion = model.complete([*history, ChatMessage("user", "Hi!")], max_tokens=8)
    assert completion.usage.prompt_tokens < 1024


def test_gpu_offload_on_a_cpu_build_is_a_clear_error():
    config = ModelConfig(model_path=MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf", n_gpu_layers=-1)
    with pytest.raises(BackendUnavailable, match="GGML_CUDA"):
        registry.build(config)


def _evaluated_tokens(model: LlamaCppLLM, chats: list[list[ChatMessage]]) -> list[int]:
    """Tokens llama.cpp had to evaluate for each call (a spy on the real engine's eval)."""
    counts: list[int] = []
    original = model._llama.eval

    def counting_eval(tokens):  # type: ignore[no-untyped-def]
        counts[-1] += len(tokens)
        return original(tokens)

    model._llama.eval = counting_eval
    try:
        for chat in chats:
            counts.append(0)
            model.complete(chat, greedy=True, max_tokens=4)
    finally:
        model._llama.eval = original
    return counts


def test_a_conversation_resumed_after_another_reuses_its_evaluated_prompt():
    long_intro = "We are a logistics company with warehouses in five countries. " * 12
    a = [ChatMessage("system", "You are a sales assistant."), ChatMessage("user", long_intro)]
    b = [ChatMessage("system", "You are a sales assistant."), ChatMessage("user", "Hello!")]
    a_next = [*a, ChatMessage("assistant", "Thanks!"), ChatMessage("user", "Pricing?")]

    def third_call_cost(cache_mb: int) -> int:
        config = ModelConfig(
            model_path=MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf",
            n_ctx=1024,
            backend_options={"prompt_cache_mb": cache_mb},
        )
        built = registry.build(config)
        assert isinstance(built, LlamaCppLLM)
        try:
            return _evaluated_tokens(built, [a, b, a_next])[2]
        finally:
            built.close()

    without, with_cache = third_call_cost(0), third_call_cost(64)
    assert with_cache < without / 2, (with_cache, without)


def test_unknown_backend_options_are_refused():
    from llm import InvalidOptions

    config = ModelConfig(
        model_path=MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf", backend_options={"cache": 1}
    )
    with pytest.raises(InvalidOptions, match="cache"):
        registry.preflight(config)


@pytest.mark.parametrize("option", [None, True])
def test_flash_attention_is_off_on_the_cpu_unless_asked_for(option: bool | None):
    import llama_cpp

    config = ModelConfig(
        model_path=MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf",
        n_ctx=512,
        backend_options={} if option is None else {"flash_attn": option},
    )
    built = registry.build(config)
    assert isinstance(built, LlamaCppLLM)
    try:
        expected = (
            llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
            if option
            else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        assert built._llama.context_params.flash_attn_type == expected
        assert built.complete(PROMPT, max_tokens=4).text  # and the model runs with it
    finally:
        built.close()
