"""The model layer's error taxonomy (llm/errors.py): which errors are transient, and how the
server backends map what they meet at the HTTP boundary onto it; and the prompt family a
built model carries from its configuration.

Ollama is served by tests/llm/ollama_server.py, the OpenAI-compatible wire by the canned
answers of tests/llm/wire_server.py; a closed port is a real refused connection.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llm import (
    BackendTimeout,
    BackendUnavailable,
    ChatMessage,
    ContextWindowExceeded,
    ExtractionFailed,
    GenerationFailed,
    InvalidOptions,
    LLMError,
    ModelConfig,
    ModelNotFound,
    ServerFailed,
    ServerUnreachable,
    TransientError,
    UnknownModel,
    get_llm,
    registry,
)
from tests.llm.ollama_server import OllamaServer, closed_url
from tests.llm.wire_server import Reply, WireServer

CHAT = [ChatMessage("user", "Hello")]

# ---- the taxonomy ---------------------------------------------------------------------------


@pytest.mark.parametrize("error", [BackendTimeout, ServerUnreachable, ServerFailed])
def test_errors_that_may_pass_are_transient(error: type[LLMError]):
    assert issubclass(error, TransientError)


@pytest.mark.parametrize(
    "error",
    [
        ModelNotFound,
        InvalidOptions,
        ContextWindowExceeded,
        UnknownModel,
        ExtractionFailed,
        BackendUnavailable,
        GenerationFailed,
    ],
)
def test_errors_that_will_not_pass_are_not_transient(error: type[LLMError]):
    assert issubclass(error, LLMError)
    assert not issubclass(error, TransientError)


def test_an_unreachable_server_is_also_an_unavailable_backend():
    assert issubclass(ServerUnreachable, BackendUnavailable)


def test_a_failing_server_is_also_a_failed_generation():
    assert issubclass(ServerFailed, GenerationFailed)


# ---- at the HTTP boundary -------------------------------------------------------------------


def _build(backend: str, base_url: str, model: str = "m"):  # type: ignore[no-untyped-def]
    return registry.build(ModelConfig(backend=backend, model=model, base_url=base_url))


@pytest.mark.parametrize("backend", ["ollama", "openai_compat"])
def test_a_refused_connection_is_an_unreachable_server(backend: str):
    model = _build(backend, closed_url())
    try:
        with pytest.raises(ServerUnreachable):
            model.complete(CHAT, max_tokens=2)
    finally:
        model.close()


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer()
    yield server
    server.close()


@pytest.mark.parametrize("status", [500, 429])
def test_an_openai_compatible_server_error_or_overload_is_a_transient_failure(
    wire: WireServer, status: int
):
    wire.replies.append(Reply(status=status, body={"error": {"message": "busy"}}))
    with pytest.raises(ServerFailed, match=f"HTTP {status}: busy"):
        _build("openai_compat", wire.url).complete(CHAT)


def test_an_openai_compatible_server_that_is_not_ready_is_unreachable(wire: WireServer):
    wire.replies.append(Reply(status=503, body={"error": {"message": "Loading model"}}))
    with pytest.raises(ServerUnreachable, match="Loading model"):
        _build("openai_compat", wire.url).complete(CHAT)


def test_an_openai_compatible_unknown_model_is_not_transient(wire: WireServer):
    body = {"object": "error", "message": "The model `m` does not exist.", "code": 404}
    wire.replies.append(Reply(status=404, body=body))
    with pytest.raises(BackendUnavailable) as info:
        _build("openai_compat", wire.url).complete(CHAT)
    assert not isinstance(info.value, TransientError)


@pytest.fixture(scope="module")
def ollama() -> Iterator[OllamaServer]:
    with OllamaServer() as running:
        yield running


@pytest.mark.slow
@pytest.mark.parametrize("status", [500, 429])
def test_an_ollama_server_error_or_overload_is_a_transient_failure(
    ollama: OllamaServer, status: int
):
    ollama.fail_next("server busy", status=status)
    model = _build("ollama", ollama.url, model=ollama.model_name)
    try:
        with pytest.raises(ServerFailed, match=f"HTTP {status}: server busy"):
            model.complete(CHAT, max_tokens=2)
    finally:
        model.close()


@pytest.mark.slow
def test_an_ollama_unknown_model_is_not_transient(ollama: OllamaServer):
    model = _build("ollama", ollama.url, model="nope:7b")
    try:
        with pytest.raises(BackendUnavailable) as info:
            model.complete(CHAT, max_tokens=2)
    finally:
        model.close()
    assert not isinstance(info.value, TransientError)


# ---- the prompt family ----------------------------------------------------------------------


def test_a_built_model_carries_its_configured_prompt_family():
    model = registry.build(ModelConfig(backend="fake", template_family="mistral"))
    assert model.template_family == "mistral"


def test_get_llm_gives_a_model_of_the_configured_prompt_family():
    config = ModelConfig(name="family", backend="fake", template_family="mistral")
    try:
        assert get_llm(config).template_family == "mistral"
    finally:
        registry.reset()


def test_a_model_configured_without_a_family_has_none():
    assert registry.build(ModelConfig(backend="fake")).template_family is None
