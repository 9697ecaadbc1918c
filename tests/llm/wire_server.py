"""An OpenAI-compatible server on loopback that answers with scripted replies, in the real wire
format (server-sent events of chat.completion.chunk objects): the HTTP boundary the
openai_compat backend talks to, for tests that need no real server process."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    events: list[Any] = field(default_factory=list)  # SSE data: dicts or raw strings
    body: Any = None  # a JSON error body, sent instead of events
    stall_after: int | None = None  # send this many events, then wait for `release`


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class WireServer:
    """Records each request and answers with the next scripted `Reply` (default: "Hi there")."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.replies: list[Reply] = []
        self.release = threading.Event()  # a `hang` reply waits for this
        self.hang = False
        self.disconnected = threading.Event()  # a client left before a stalled reply ended
        # What `GET /slots` lists, as llama.cpp's server does; None answers 501, as it does
        # when started with --no-slots.
        self.slots: list[dict[str, Any]] | None = None
        wire = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                wire.requests.append(Recorded(self.path, dict(self.headers), {}))
                if self.path != "/slots" or wire.slots is None:
                    body = {
                        "error": {
                            "code": 501,
                            "message": "This server does not support slots endpoint.",
                            "type": "not_supported_error",
                        }
                    }
                    status = 501 if self.path == "/slots" else 404
                else:
                    body, status = wire.slots, 200
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                wire.requests.append(Recorded(self.path, dict(self.headers), body))
                if wire.hang:
                    wire.release.wait()
                    return
                reply = wire.replies.pop(0) if wire.replies else text_reply("Hi", " there")
                if reply.body is not None:
                    payload = json.dumps(reply.body).encode()
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for n, event in enumerate(reply.events):
                    if n == reply.stall_after:
                        self.wfile.flush()
                        wire.release.wait()
                    data = event if isinstance(event, str) else json.dumps(event)
                    try:
                        self.wfile.write(f"data: {data}\n\n".encode())
                        self.wfile.flush()
                    except OSError:  # the client shut the connection
                        wire.disconnected.set()
                        return

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": content} if content is not None else {}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def text_reply(*parts: str, finish: str = "stop", usage: dict[str, int] | None = None) -> Reply:
    events: list[Any] = [chunk(p) for p in parts] + [chunk(finish=finish)]
    if usage is not None:
        events.append({"id": "chatcmpl-1", "choices": [], "usage": usage})
    return Reply(events=[*events, "[DONE]"])
