"""The legacy ctransformers backend on a tiny random GGUF, and the bundled GGUF it refuses."""

from __future__ import annotations

import ctypes
import inspect
import itertools
from pathlib import Path

import pytest

from llm import (
    BackendUnavailable,
    ChatMessage,
    Completion,
    InvalidOptions,
    ModelConfig,
    ModelNotFound,
    registry,
)
from llm.backends.ctransformers import CTransformersLLM, MistralLLM, _StopScanner
from tests.llm.engines import Engine

MODELS = Path(__file__).resolve().parents[2] / "models"
pytestmark = pytest.mark.slow

PROMPT = [
    ChatMessage("system", "You qualify leads."),
    ChatMessage("user", "We need twelve seats for Acme."),
]


@pytest.fixture
def model(ctransformers_engine: Engine) -> CTransformersLLM:
    assert isinstance(ctransformers_engine.model, CTransformersLLM)
    return ctransformers_engine.model


def _config(model_path: Path, **fields: object) -> ModelConfig:
    return ModelConfig.model_validate(
        {"backend": "ctransformers", "model_path": model_path, "n_ctx": 512, "n_threads": 1}
        | fields
    )


def _cuda_runtime_present() -> bool:
    try:
        ctypes.CDLL("libcudart.so.12")
    except OSError:
        return False
    return True


def test_the_bundled_smollm2_is_refused_with_the_reason_and_the_way_out():
    with pytest.raises(BackendUnavailable) as raised:
        registry.build(_config(MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    message = str(raised.value)
    assert "2023" in message and "LLM_BACKEND=llama_cpp" in message


def test_a_missing_file_names_the_setting_and_the_file_era(tmp_path: Path):
    with pytest.raises(ModelNotFound, match="LLM_MODEL_PATH") as raised:
        registry.preflight(_config(tmp_path / "absent.gguf"))
    assert "2023" in str(raised.value)


def test_a_file_that_is_not_gguf_fails_preflight(tmp_path: Path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"not a model")
    with pytest.raises(BackendUnavailable, match="not a GGUF file"):
        registry.preflight(_config(path))


def test_a_backend_option_typo_is_rejected(model: CTransformersLLM):
    config = _config(model.model_path, backend_options={"model_typ": "llama"})
    with pytest.raises(InvalidOptions, match=r"backend_options\.model_typ"):
        registry.preflight(config)
    with pytest.raises(InvalidOptions, match=r"backend_options\.model_typ"):
        registry.build(config)


def test_an_unknown_chat_format_fails_preflight(model: CTransformersLLM):
    with pytest.raises(InvalidOptions, match="unknown chat format"):
        registry.preflight(_config(model.model_path, chat_format="alpaca"))


def test_valid_settings_pass_preflight(model: CTransformersLLM):
    options = {"model_type": "mistral", "last_n_tokens": 32}
    registry.preflight(_config(model.model_path, chat_format="chatml", backend_options=options))


@pytest.mark.skipif(_cuda_runtime_present(), reason="a CUDA 12 runtime is installed here")
def test_gpu_layers_without_the_cuda_build_say_how_to_get_it(model: CTransformersLLM):
    with pytest.raises(BackendUnavailable, match=r"ctransformers\[cuda\]"):
        registry.preflight(_config(model.model_path, gpu_layers=20))


def test_mistral_llm_keeps_the_original_signature(model: CTransformersLLM):
    parameters = inspect.signature(MistralLLM).parameters
    assert list(parameters)[:2] == ["model_path", "gpu_layers"]
    assert parameters["gpu_layers"].default == 0
    mistral = MistralLLM(str(model.model_path), n_ctx=512, n_threads=1)
    try:
        assert mistral.complete(PROMPT, greedy=True, max_tokens=8).text
    finally:
        mistral.close()


def test_mistral_llm_builds_from_a_config(model: CTransformersLLM):
    mistral = MistralLLM.from_config(_config(model.model_path, name="legacy"))
    try:
        assert isinstance(mistral, MistralLLM) and mistral.name == "legacy"
    finally:
        mistral.close()


def test_greedy_generation_is_reproducible(model: CTransformersLLM):
    first = model.complete(PROMPT, greedy=True, max_tokens=12)
    second = model.complete(PROMPT, greedy=True, max_tokens=12)
    assert first.text == second.text


def test_a_seed_makes_sampling_reproducible(model: CTransformersLLM):
    first = model.complete(PROMPT, seed=11, temperature=1.2, max_tokens=12)
    second = model.complete(PROMPT, seed=11, temperature=1.2, max_tokens=12)
    assert first.text == second.text


def test_a_stop_split_across_chunks_still_ends_the_text(model: CTransformersLLM):
    *chunks, free = list(model.stream(PROMPT, greedy=True, max_tokens=32))
    assert isinstance(free, Completion)
    boundary = 0
    for before, after in itertools.pairwise(chunks):
        boundary += len(before)
        stop = before[-1] + after[0]
        if free.text.index(stop) == boundary - 1:  # its first occurrence spans two chunks
            break
    else:
        pytest.fail(f"no chunk boundary to split a stop across in {chunks!r}")
    stopped = model.complete(PROMPT, greedy=True, max_tokens=32, stop=[stop])
    assert stopped.text == free.text[: boundary - 1]
    assert stopped.finish_reason == "stop"


def test_the_stop_scanner_holds_back_only_what_may_begin_a_stop():
    scanner = _StopScanner(["</s>"])
    assert [
        scanner.push("Hel"),
        scanner.push("lo <"),
        scanner.push("b</"),
        scanner.push("s>x"),
    ] == [
        "Hel",
        "lo ",
        "<b",
        "",
    ]
    assert scanner.stopped and scanner.flush() == ""


def test_text_beyond_ascii_is_tokenized_safely(model: CTransformersLLM):
    # ctransformers' own tokenize() overflows its buffer here (byte-fallback tokens).
    assert model.count_tokens("Hi 👋 — café 日本語") > len("Hi 👋 — café 日本語")
    assert model.complete([ChatMessage("user", "👋🍎🍌")], greedy=True, max_tokens=4).text


def test_usage_counts_prompt_and_generated_tokens(model: CTransformersLLM):
    completion = model.complete(PROMPT, greedy=True, max_tokens=6)
    assert completion.finish_reason == "length"
    assert completion.usage.completion_tokens == 6
    assert completion.usage.prompt_tokens > model.count_tokens("We need twelve seats for Acme.")


def test_a_closed_model_is_unavailable(model: CTransformersLLM):
    other = CTransformersLLM(model_path=model.model_path, n_ctx=256, n_threads=1)
    other.close()
    with pytest.raises(BackendUnavailable, match="closed"):
        other.complete(PROMPT, max_tokens=4)
