"""Reading an OpenAI-compatible server's stream: its events, the token counts llama.cpp's
server adds, and a watch that cuts background work off while no event comes."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import httpx

from llm.types import Usage


def sse_data(response: httpx.Response) -> Iterator[str]:
    """The `data` of each Server-Sent Event; comments, other fields and keep-alives are skipped."""
    data: list[str] = []
    for line in response.iter_lines():
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            yield "\n".join(data)
            data = []
    if data:
        yield "\n".join(data)


class PreemptWatch:
    """While a background generation streams, ask `interrupt` every `every` seconds and shut
    the connection when it says so: the reading thread then sees the stream end, and the
    server drops the request. Servers send no chunk while they read a prompt, nor (llama.cpp's)
    for tokens that add nothing to the message yet, so a check between chunks can come late."""

    def __init__(
        self,
        response: httpx.Response,
        interrupt: Callable[[], bool] | None,
        every: float = 0.02,
    ) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        self._sock: socket.socket | None = sock if interrupt is not None else None
        self._interrupt, self._every = interrupt, every
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired = False

    def __enter__(self) -> PreemptWatch:
        if self._sock is not None:
            self._thread = threading.Thread(target=self._run, name="llm-preempt", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        assert self._sock is not None and self._interrupt is not None
        while not self._done.wait(self._every):
            if self._interrupt():
                self.fired = True
                # shutdown, not close: it wakes the thread blocked reading the socket. An
                # OSError: the stream had ended and the socket is closed already.
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)
                return


def timings_usage(timings: object) -> Usage | None:
    """The counts in llama.cpp server's `timings`: tokens evaluated (`prompt_n`) plus those
    taken from its cache (`cache_n`), and those generated (`predicted_n`)."""
    if not isinstance(timings, dict) or "prompt_n" not in timings:
        return None
    cached = int(timings.get("cache_n") or 0)
    prompt = int(timings.get("prompt_n") or 0) + cached
    return Usage(prompt, int(timings.get("predicted_n") or 0), cached)


def cached_tokens(usage: dict[str, Any], timings: object) -> int:
    """Prompt tokens the server reused from its cache: OpenAI's and vLLM's
    `prompt_tokens_details.cached_tokens`, or llama.cpp server's `timings.cache_n`."""
    details = usage.get("prompt_tokens_details")
    if isinstance(details, dict) and details.get("cached_tokens") is not None:
        return int(details["cached_tokens"] or 0)
    if isinstance(timings, dict):
        return int(timings.get("cache_n") or 0)
    return 0


class EchoCut:
    """Drops a begun reply from the front of its continuation when the server sends it back.

    llama.cpp's server, continuing a final assistant message, streams that message's text
    before what it generates (its chat parser reads the two as one message; build 0c1e570),
    where vLLM and older llama.cpp servers send only the new text. What comes is held back
    until it either begins with the begun text (which is dropped) or departs from it (and is
    passed on whole), so either kind of server gives the same continuation.
    """

    def __init__(self, begun: str) -> None:
        self.begun = begun
        self.held: str | None = "" if begun else None  # None: decided

    def feed(self, text: str) -> str:
        if self.held is None:
            return text
        held = self.held + text
        if len(held) < len(self.begun) and self.begun.startswith(held):
            self.held = held
            return ""
        self.held = None
        return held.removeprefix(self.begun)

    def rest(self) -> str:
        """At the end of the stream: text held back that turned out to be new."""
        held, self.held = self.held or "", None
        return held
