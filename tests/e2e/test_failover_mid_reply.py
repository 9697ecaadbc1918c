"""A reply whose model dies mid-stream, through the real processes: the reply chain's first
model is a llama-server killed after a few of its tokens went out, and the next model (the
stack's own llama-server) continues from the words the visitor already has. The widget gets
one reply: streamed, stored whole, no word of it twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from leads.claims import sentences_of
from leads.models import Message
from llm.llama_server import LlamaServer
from salesbot.stack import wait_http_ok
from tests.e2e.conftest import free_port
from tests.e2e.test_failover_stack import ask

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MODEL = Path(__file__).resolve().parents[2] / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


class Doomed:
    """A real llama-server, reached through a relay that kills it (SIGKILL) once `cut_after`
    events of a reply have gone through: a server dying mid-stream, at a known point."""

    def __init__(self) -> None:
        self.server = LlamaServer(model_path=MODEL, port=free_port(), slots=1, n_ctx=2048)
        if not self.server.binary.is_file():
            message = f"no llama-server at {self.server.binary}: run `make llama-server`"
            pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
        self.process = subprocess.Popen(
            self.server.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        upstream = self.server.base_url.removesuffix("/v1")
        wait_http_ok(f"{upstream}/health", 60, self.process, "llama-server")
        self.cut_after: int | None = None  # armed by the test
        self.relayed: list[str] = []  # the reply's text that went out before the kill
        doomed = self

        class Relay(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                answer = httpx.get(upstream + self.path, timeout=10)
                self._send(answer.status_code, answer.content, answer.headers["content-type"])

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with httpx.stream("POST", upstream + self.path, content=body, timeout=60) as got:
                    self.send_response(got.status_code)
                    self.send_header("Content-Type", got.headers["content-type"])
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for line in got.iter_lines():
                        self._chunk(f"{line}\n".encode())
                        if doomed.take(line):
                            self._chunk(b"\n")  # the end of that event: it reaches the worker
                            doomed.process.send_signal(signal.SIGKILL)
                            self.close_connection = True
                            return  # mid-stream: no last chunk, no [DONE]
                    self._chunk(b"")

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _send(self, status: int, content: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.relay = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
        threading.Thread(target=self.relay.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.relay.server_port}/v1"

    def take(self, line: str) -> bool:
        """Note a reply's text event; True when it is the one to die after."""
        if self.cut_after is None or not line.startswith("data: {"):
            return False
        delta = json.loads(line.removeprefix("data: "))["choices"]
        text = delta[0]["delta"].get("content") if delta else None
        if text:
            self.relayed.append(text)
        return len(self.relayed) >= self.cut_after

    def close(self) -> None:
        self.relay.shutdown()
        self.process.kill()
        self.process.wait(10)


@pytest.fixture(scope="module")
def doomed() -> Iterator[Doomed]:
    server = Doomed()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def stack_env(stack_env, doomed, tmp_path_factory):
    config = tmp_path_factory.mktemp("llm") / "llm.yaml"
    config.write_text(
        "default_model: local\n"
        "roles:\n  reply: [doomed, local]\n  extraction: local\n"
        "failover: {retries: 0}\n"
        "models:\n"
        "  local: {backend: llama_cpp, n_ctx: 2048, template_family: chatml, capability: compose}\n"
        f"  doomed:\n    backend: openai_compat\n    model: {doomed.server.alias}\n"
        f"    base_url: {doomed.url}\n    template_family: chatml\n    capability: compose\n"
        "    defaults: {max_tokens: 120}\n"
    )
    return stack_env | {"LLM_CONFIG": str(config)}


def test_a_reply_whose_model_dies_mid_stream_is_continued_by_the_next(
    live_stack, demo_site, doomed
):
    doomed.cut_after = 4
    deltas, frame = ask(
        live_stack, "Hi! What does Acme Analytics sell?", "7d1b0c1e-0000-4000-8000-000000000002"
    )
    assert doomed.process.poll() is not None, "the first model's server should be dead"
    stored = Message.objects.get(id=frame["message"])
    assert stored.status == Message.Status.COMPLETE and stored.text == frame["text"]
    streamed, before = "".join(d["text"] for d in deltas), "".join(doomed.relayed).strip()
    # Nothing shown is withdrawn: the reply is what streamed, whole checked sentences only.
    assert streamed == stored.text
    # One reply: the dead server's words, then the next model's, none twice or missing. Each
    # sentence of what the dead server relayed stands in what was shown or withheld by the
    # reply guard (the bundled model's words may fail a check), the last one continued.
    written = [stored.text, *(w["sentence"] for w in stored.withheld)]
    *whole, last = sentences_of(before)
    assert all(any(s in text for text in written) for s in whole), (before, written)
    continued = [text[text.index(last) + len(last) :] for text in written if last in text]
    assert continued, (before, written)
    assert not any(rest.lstrip().startswith(last) for rest in continued), "it started over"
    assert stored.model_name == "SmolLM2-135M-Instruct.Q4_1"  # the model that ended it
