"""Failover against real faults: a port with nothing listening, a server that hangs past its
time-out, a llama.cpp server killed mid-reply; the bundled model in llama.cpp takes over."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm import ChatMessage, Completion, FailoverLLM, ModelConfig, registry
from llm.llama_server import LlamaServer
from llm.settings import FailoverSettings
from salesbot.stack import wait_http_ok
from tests.e2e.conftest import free_port
from tests.llm.wire_server import WireServer

pytestmark = pytest.mark.slow

MODEL = Path(__file__).resolve().parents[2] / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
CHAT = [ChatMessage("user", "Name one colour.")]
LOCAL = ModelConfig(name="local", model_path=MODEL, n_ctx=512)


def _server(name: str, url: str, timeout: float = 5.0) -> ModelConfig:
    return ModelConfig(name=name, backend="openai_compat", model="m", base_url=url, timeout=timeout)


def _chain(*configs: ModelConfig, **policy: float) -> FailoverLLM:
    return FailoverLLM(
        configs, build=registry.build, policy=FailoverSettings(**({"backoff_s": 0.1} | policy))
    )


def test_a_port_with_nothing_listening_hands_the_reply_to_the_next_model():
    model = _chain(_server("gone", f"http://127.0.0.1:{free_port()}/v1"), LOCAL)
    try:
        chunks = list(model.stream(CHAT, max_tokens=8))
    finally:
        model.close()
    completion = chunks[-1]
    assert isinstance(completion, Completion) and completion.text
    assert "".join(c for c in chunks if isinstance(c, str)) == completion.text
    # One failed call (tried, then again after a back-off), then passed over.
    assert model.members[0].failed_in_a_row == 1 and model.members[1].failed_in_a_row == 0


def test_a_server_that_hangs_past_its_time_out_is_tried_again_then_passed_over():
    wire = WireServer()
    wire.hang = True  # takes the request, never answers
    model = _chain(_server("stuck", wire.url, timeout=1.0), LOCAL, retries=1)
    try:
        assert model.complete(CHAT, max_tokens=8).text
    finally:
        model.close()
        wire.close()
    assert len(wire.requests) == 2  # the first try and one retry, then the next model


@pytest.fixture
def llama_server() -> Iterator[tuple[LlamaServer, subprocess.Popen[bytes]]]:
    running = LlamaServer(model_path=MODEL, port=free_port(), slots=1, n_ctx=1024)
    if not running.binary.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no llama-server at {running.binary}: run `make llama-server`")
        pytest.skip(f"no llama-server at {running.binary}: run `make llama-server`")
    process = subprocess.Popen(
        running.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_http_ok(running.base_url.removesuffix("/v1") + "/health", 60, process, "llama-server")
        yield running, process
    finally:
        process.kill()
        process.wait(10)


def test_a_server_killed_mid_reply_is_continued_by_the_next_model_from_the_words_sent(
    llama_server,
):
    """The caller holds part of a reply: the next model writes what follows it (the words
    sent open its turn), so the caller gets one reply, not a second one after half of the
    first."""
    running, process = llama_server
    config = _server(running.alias, running.base_url).model_copy(update={"name": "server"})
    model = _chain(config, LOCAL)
    received: list[str] = []
    try:
        for item in model.stream([ChatMessage("user", "Write a long poem.")], max_tokens=60):
            if isinstance(item, Completion):
                completion = item
            else:
                received.append(item)
                if len(received) == 3:
                    process.send_signal(signal.SIGKILL)
    finally:
        model.close()
    begun = "".join(received[:3])
    assert process.wait(10) == -signal.SIGKILL
    assert completion.text == "".join(received) and len(completion.text) > len(begun)
    assert completion.model == "local" and completion.failed_over == ("server",)
    assert not completion.text[len(begun) :].lstrip().startswith(begun.strip())
