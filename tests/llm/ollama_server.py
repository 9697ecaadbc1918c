"""A local server speaking Ollama's HTTP API, generating with the real bundled GGUF.

No Ollama can run here, so the ollama backend is tested against this: /api/chat (streamed
NDJSON, or one object with `"stream": false`), /api/tags, and Ollama's error shapes, with text
from SmolLM2 through llama.cpp. Options and `format` are mapped the way Ollama maps them.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import llama_cpp

from llm import ChatMessage
from llm.backends.llama_cpp_turns import open_turn

BUNDLED = Path(__file__).resolve().parents[2] / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2:135m"
# Ollama's defaults for the options a request leaves out.
_DEFAULTS = {"temperature": 0.8, "top_p": 0.9, "top_k": 40, "repeat_penalty": 1.1}


@dataclass(frozen=True)
class _Loaded:
    llama: llama_cpp.Llama
    lock: threading.Lock  # one llama context: one generation at a time


@functools.cache
def _load(model_path: Path, n_ctx: int) -> _Loaded:
    """The model, loaded once per process however many servers serve it."""
    llama = llama_cpp.Llama(
        model_path=str(model_path), n_ctx=n_ctx, n_threads=os.cpu_count(), verbose=False
    )
    return _Loaded(llama, threading.Lock())


@dataclass(frozen=True)
class _Failure:
    error: str
    status: int
    after_chunks: int | None


def closed_url() -> str:
    """The URL of a 127.0.0.1 port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class OllamaServer:
    """Serves `model_name` on a free 127.0.0.1 port; use as a context manager."""

    def __init__(
        self, *, model_path: Path = BUNDLED, model_name: str = MODEL_NAME, n_ctx: int = 2048
    ) -> None:
        self.model_path = model_path
        self.model_name = model_name
        self.n_ctx = n_ctx
        self.requests: list[dict[str, Any]] = []  # every /api/chat body, in order
        self._failure: _Failure | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "the server is not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def fail_next(self, error: str, *, status: int = 500, after_chunks: int | None = None) -> None:
        """Make the next /api/chat fail with `{"error": error}`.

        As the HTTP reply with `status`, or, given `after_chunks`, as a line in a stream that
        has already sent that many generated chunks with status 200, as Ollama does.
        """
        self._failure = _Failure(error, status, after_chunks)

    def take_failure(self) -> _Failure | None:
        failure, self._failure = self._failure, None
        return failure

    def start(self) -> OllamaServer:
        _load(self.model_path, self.n_ctx)  # before the first request, not during it
        handler = type("Handler", (_Handler,), {"ollama": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> OllamaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def knows(self, model: str) -> bool:
        # Ollama names are model:tag, the tag defaulting to "latest".
        return model in {self.model_name, f"{self.model_name}:latest"} or (
            ":" not in model and f"{model}:latest" == self.model_name
        )

    def chat(self, body: dict[str, Any]) -> Generator[dict[str, Any]]:
        """Ollama's /api/chat stream for `body`: content lines, then the final one."""
        options = body.get("options") or {}
        fmt = body.get("format")
        response_format: dict[str, Any] | None = None
        if fmt == "json":
            response_format = {"type": "json_object"}
        elif isinstance(fmt, dict):
            response_format = {"type": "json_object", "schema": fmt}
        num_predict = options.get("num_predict", -1)
        loaded = _load(self.model_path, self.n_ctx)
        messages = body.get("messages") or []
        sampling = {
            "stream": True,
            # Ollama: -1 generates until the model stops, -2 until the context is full.
            "max_tokens": num_predict if num_predict > 0 else None,
            "temperature": options.get("temperature", _DEFAULTS["temperature"]),
            "top_p": options.get("top_p", _DEFAULTS["top_p"]),
            "top_k": options.get("top_k", _DEFAULTS["top_k"]),
            "repeat_penalty": options.get("repeat_penalty", _DEFAULTS["repeat_penalty"]),
            "seed": options.get("seed"),
        }
        with loaded.lock:
            started = time.perf_counter_ns()
            if messages and messages[-1]["role"] == "assistant":
                # Ollama continues a final assistant message: its template leaves it open.
                turn = open_turn(loaded.llama)
                assert turn is not None
                chat = [ChatMessage(m["role"], m["content"]) for m in messages]
                chunks = loaded.llama.create_completion(
                    prompt=turn.tokens(loaded.llama, chat),
                    stop=[*turn.stop, *(options.get("stop") or [])],
                    **sampling,
                )
            else:
                chunks = loaded.llama.create_chat_completion(
                    messages=cast(Any, messages),
                    stop=options.get("stop") or None,
                    response_format=cast(Any, response_format),
                    **sampling,
                )
            reason = "stop"
            produced = 0
            first_token: int | None = None
            for chunk in cast(Iterator[dict[str, Any]], chunks):
                choice = chunk["choices"][0]
                text = choice["delta"].get("content") if "delta" in choice else choice["text"]
                if text:
                    produced += 1
                    first_token = first_token or time.perf_counter_ns()
                    yield self._line(body, {"role": "assistant", "content": text}, done=False)
                if choice.get("finish_reason"):
                    reason = choice["finish_reason"]
            finished = time.perf_counter_ns()
            # The context holds the prompt plus what was generated from it.
            prompt_tokens = max(loaded.llama.n_tokens - produced, 0)
        first_token = first_token or finished
        yield self._line(body, {"role": "assistant", "content": ""}, done=True) | {
            "done_reason": reason,
            "total_duration": finished - started,
            "load_duration": 0,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": first_token - started,
            "eval_count": produced,
            "eval_duration": finished - first_token,
        }

    @staticmethod
    def _line(body: dict[str, Any], message: dict[str, str], *, done: bool) -> dict[str, Any]:
        return {"model": body["model"], "created_at": _now(), "message": message, "done": done}

    def tags(self) -> dict[str, Any]:
        return {
            "models": [
                {
                    "name": self.model_name,
                    "model": self.model_name,
                    "modified_at": _now(),
                    "size": self.model_path.stat().st_size,
                    "digest": "0" * 64,
                    "details": {
                        "format": "gguf",
                        "family": "llama",
                        "parameter_size": "135M",
                        "quantization_level": "Q4_1",
                    },
                }
            ]
        }


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its keep-alive connection, or leaving a stream early, is normal.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    ollama: OllamaServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest's output clean

    def do_GET(self) -> None:
        if self.path == "/api/tags":
            self._reply(HTTPStatus.OK, self.ollama.tags())
        elif self.path == "/":
            self._send(HTTPStatus.OK, b"Ollama is running", "text/plain; charset=utf-8")
        else:
            self._reply(HTTPStatus.NOT_FOUND, {"error": "404 page not found"})

    def do_POST(self) -> None:
        if self.path != "/api/chat":
            self._reply(HTTPStatus.NOT_FOUND, {"error": "404 page not found"})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        except json.JSONDecodeError as exc:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": f"invalid request body: {exc}"})
            return
        self.ollama.requests.append(body)
        model = body.get("model")
        if not model:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": "model is required"})
            return
        if not self.ollama.knows(model):
            error = f'model "{model}" not found, try pulling it first'
            self._reply(HTTPStatus.NOT_FOUND, {"error": error})
            return
        failure = self.ollama.take_failure()
        if failure is not None and failure.after_chunks is None:
            self._reply(failure.status, {"error": failure.error})
            return
        lines = self.ollama.chat(body)
        try:
            # Errors before the first line still get a status code; later ones cannot.
            first = next(lines)
        except (ValueError, RuntimeError) as exc:
            self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": str(exc)})
            return
        if body.get("stream", True) is False:
            *rest, last = [first, *lines]
            content = "".join(line["message"]["content"] for line in [*rest, last])
            last["message"] = {"role": "assistant", "content": content}
            self._reply(HTTPStatus.OK, last)
            return
        self._stream(first, lines, failure)

    def _stream(
        self, first: dict[str, Any], lines: Generator[dict[str, Any]], failure: _Failure | None
    ) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        limit = failure.after_chunks if failure is not None else None
        try:
            for sent, line in enumerate(itertools.chain([first], lines)):
                if sent == limit:
                    break
                self._chunk(line)
        except (ValueError, RuntimeError) as exc:
            self._chunk({"error": str(exc)})
        else:
            if failure is not None:
                self._chunk({"error": failure.error})
        finally:
            lines.close()  # releases the model lock if generation stopped early
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, line: dict[str, Any]) -> None:
        data = json.dumps(line).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
