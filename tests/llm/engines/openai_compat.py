"""A real llama-cpp-python server (`python -m llama_cpp.server`) serving the bundled GGUF."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from llm import ModelConfig, Options, registry
from tests.llm.engines import Engine

MODELS = Path(__file__).resolve().parents[3] / "models"
BUNDLED = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIAS = "smollm2"
N_CTX = 1024
# llama-cpp-python's server takes structured output only as {type: json_object, schema}
# (its json_schema answer is HTTP 500), and accepts top_k/repeat_penalty as llama.cpp names them.
SERVER_OPTIONS = {"response_format": "json_object", "extra_sampling": "llama_cpp"}


def free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/v1/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"llama_cpp.server did not start within 120 s:\n{log.read_text()}")


def server_config(base_url: str, **overrides: object) -> ModelConfig:
    """A ModelConfig for the engine's server; `overrides` replace any field."""
    fields: dict[str, object] = {
        "backend": "openai_compat",
        "model": ALIAS,
        "base_url": base_url,
        "n_ctx": N_CTX,
        "defaults": Options(max_tokens=48),
        "backend_options": SERVER_OPTIONS,
    }
    return ModelConfig.model_validate(fields | overrides)


@pytest.fixture(scope="session")
def openai_compat_engine() -> Iterator[Engine]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "llama_cpp.server",
                    "--model",
                    str(BUNDLED),
                    "--model_alias",
                    ALIAS,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--n_ctx",
                    str(N_CTX),
                    "--verbose",
                    "false",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_serving(process, base_url, log)
            model = registry.build(server_config(base_url))
            yield Engine(
                model=model,
                unavailable=lambda: registry.build(
                    server_config(f"http://127.0.0.1:{free_port()}")
                ),
                context_window=N_CTX,
            )
            model.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
