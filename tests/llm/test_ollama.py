"""The ollama backend against a local server speaking Ollama's wire format with the real GGUF."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from llm import (
    BackendTimeout,
    BackendUnavailable,
    ChatMessage,
    GenerationFailed,
    InvalidOptions,
    ModelConfig,
    registry,
)
from llm.backends.ollama import DEFAULT_BASE_URL, OllamaLLM
from tests.llm.ollama_server import OllamaServer, closed_url

pytestmark = pytest.mark.slow

PROMPT = [
    ChatMessage("system", "You are a concise assistant."),
    ChatMessage("user", "List five fruits, separated by commas."),
]
Build = Callable[..., OllamaLLM]


class Contact(BaseModel):
    name: str


@pytest.fixture(scope="module")
def server() -> Iterator[OllamaServer]:
    with OllamaServer() as running:
        yield running


@pytest.fixture
def build(server: OllamaServer) -> Iterator[Build]:
    built: list[OllamaLLM] = []

    def build(**fields: Any) -> OllamaLLM:
        fields = {"backend": "ollama", "model": server.model_name, "base_url": server.url} | fields
        model = registry.build(ModelConfig(**fields))
        assert isinstance(model, OllamaLLM)
        built.append(model)
        return model

    yield build
    for model in built:
        model.close()


@pytest.mark.parametrize(("greedy", "temperature"), [(True, 0.0), (False, 0.3)])
def test_the_request_maps_options_onto_ollamas(
    build: Build, server: OllamaServer, greedy: bool, temperature: float
):
    model = build(n_ctx=1024)
    model.complete(
        PROMPT,
        max_tokens=5,
        greedy=greedy,
        temperature=0.3,
        top_p=0.8,
        top_k=20,
        repeat_penalty=1.2,
        seed=7,
        stop=["twenty"],
    )
    body = server.requests[-1]
    assert body["model"] == server.model_name
    assert body["stream"] is True
    assert body["messages"] == [{"role": m.role, "content": m.content} for m in PROMPT]
    assert body["options"] == {
        "num_predict": 5,
        "temperature": temperature,
        "top_p": 0.8,
        "top_k": 20,
        "repeat_penalty": 1.2,
        "seed": 7,
        "stop": ["twenty"],
        "num_ctx": 1024,
    }
    assert "format" not in body and "keep_alive" not in body


@pytest.mark.parametrize("keep_alive", ["10m", "1h30m", -1, 0])
def test_keep_alive_comes_from_backend_options(build: Build, server: OllamaServer, keep_alive):
    build(backend_options={"keep_alive": keep_alive}).complete(PROMPT, max_tokens=2)
    assert server.requests[-1]["keep_alive"] == keep_alive


@pytest.mark.parametrize(
    "backend_options", [{"keepalive": "5m"}, {"keep_alive": "five minutes"}, {"host": "x"}]
)
def test_unknown_or_invalid_backend_options_fail_clearly(backend_options):
    config = ModelConfig(backend="ollama", model="mistral", backend_options=backend_options)
    with pytest.raises(InvalidOptions, match="backend_options"):
        registry.preflight(config)
    with pytest.raises(InvalidOptions, match="backend_options"):
        registry.build(config)


def test_extract_sends_the_schema_as_format(build: Build, server: OllamaServer):
    chat = [ChatMessage("user", "My name is Jane. Give my name as JSON.")]
    build().extract(chat, Contact, max_tokens=32, attempts=1)
    assert server.requests[-1]["format"] == Contact.model_json_schema()


def test_preflight_needs_a_model_name():
    with pytest.raises(InvalidOptions, match="LLM_MODEL"):
        registry.preflight(ModelConfig(backend="ollama"))


def test_preflight_needs_a_base_url_with_a_scheme():
    with pytest.raises(InvalidOptions, match="LLM_BASE_URL"):
        registry.preflight(ModelConfig(backend="ollama", model="mistral", base_url="gpu:11434"))


def test_preflight_and_build_do_not_contact_the_server():
    config = ModelConfig(backend="ollama", model="mistral", base_url=closed_url())
    registry.preflight(config)
    registry.build(config).close()


def test_the_base_url_defaults_to_the_local_ollama():
    model = registry.build(ModelConfig(backend="ollama", model="mistral"))
    assert isinstance(model, OllamaLLM) and model.base_url == DEFAULT_BASE_URL
    model.close()


def test_an_unknown_model_is_unavailable_with_a_pull_hint(build: Build):
    with pytest.raises(BackendUnavailable, match="ollama pull nope:7b") as info:
        build(model="nope:7b").complete(PROMPT, max_tokens=2)
    assert 'model "nope:7b" not found, try pulling it first' in str(info.value)


def test_a_closed_port_is_unavailable_and_names_the_url(build: Build):
    url = closed_url()
    with pytest.raises(BackendUnavailable, match="ollama serve") as info:
        build(base_url=url).complete(PROMPT, max_tokens=2)
    assert url in str(info.value)


def test_an_error_line_mid_stream_is_a_generation_failure(build: Build, server: OllamaServer):
    server.fail_next("llama runner process has terminated: signal: killed", after_chunks=2)
    received: list[Any] = []
    with pytest.raises(GenerationFailed, match="llama runner process has terminated"):
        for item in build().stream(PROMPT, greedy=True, max_tokens=16):
            received.append(item)
    assert len(received) == 2 and all(isinstance(item, str) for item in received)


def test_an_http_error_carries_ollamas_message(build: Build, server: OllamaServer):
    server.fail_next("unexpected server status: llm server loading model", status=500)
    with pytest.raises(GenerationFailed, match="HTTP 500: unexpected server status"):
        build().complete(PROMPT, max_tokens=2)


def test_done_reason_length_maps_to_the_finish_reason_and_counts_to_usage(build: Build):
    completion = build().complete(PROMPT, greedy=True, max_tokens=3)
    assert completion.finish_reason == "length"
    assert completion.usage.completion_tokens == 3
    assert completion.usage.prompt_tokens > 10


def test_done_reason_stop_maps_to_the_finish_reason(build: Build):
    completion = build().complete(PROMPT, greedy=True, max_tokens=64)
    assert completion.finish_reason == "stop"
    assert 1 <= completion.usage.completion_tokens < 64


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_server_that_does_not_answer_in_time_is_a_timeout(build: Build, silent_url: str):
    with pytest.raises(BackendTimeout, match="LLM_TIMEOUT"):
        build(base_url=silent_url, timeout=0.2).complete(PROMPT, max_tokens=2)


def test_the_server_answers_without_streaming_and_lists_its_model(server: OllamaServer):
    body = {
        "model": server.model_name,
        "messages": [{"role": m.role, "content": m.content} for m in PROMPT],
        "options": {"num_predict": 6, "temperature": 0},
    }
    streamed = httpx.post(f"{server.url}/api/chat", json=body).text.splitlines()
    whole = httpx.post(f"{server.url}/api/chat", json=body | {"stream": False}).json()
    lines = [json.loads(line) for line in streamed]
    assert whole["done"] is True and whole["done_reason"] == "length" == lines[-1]["done_reason"]
    assert whole["message"]["content"] == "".join(line["message"]["content"] for line in lines)
    tags = httpx.get(f"{server.url}/api/tags").json()
    assert [m["name"] for m in tags["models"]] == [server.model_name]
