"""A deterministic, scriptable model for testing the code around the model (never a backend)."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from llm.base import BaseLLM
from llm.errors import GenerationFailed
from llm.types import ChatMessage, Finish, JsonSchema, Options, Usage


class FakeLLM(BaseLLM):
    """Replies with enqueued texts (or an echo), word by word, and records every prompt."""

    backend = "fake"
    can_continue = True  # a scripted reply is as good a continuation as any

    def __init__(self, *, replies: Iterable[str | Exception] = (), **kwargs: Any) -> None:
        kwargs.setdefault("name", "fake")
        super().__init__(**kwargs)
        self.replies: deque[str | Exception] = deque(replies)
        self.prompts: list[list[ChatMessage]] = []
        self.options_seen: list[Options] = []

    def enqueue(self, *replies: str | Exception) -> None:
        """Script the next replies; an exception is raised mid-stream instead of a reply."""
        self.replies.extend(replies)

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        self.prompts.append(list(messages))
        self.options_seen.append(options)
        said = next((m.content for m in reversed(messages) if m.role == "user"), "")
        reply = self.replies.popleft() if self.replies else f"You said: {said}"
        if isinstance(reply, Exception):
            yield "…"
            raise GenerationFailed(str(reply)) from reply
        words = re.findall(r"\S+\s*", reply)[: options.max_tokens]
        yield from words
        reason = "length" if len(words) == options.max_tokens else "stop"
        prompt_tokens = sum(self.count_tokens(m.content) for m in messages)
        yield Finish(reason=reason, usage=Usage(prompt_tokens, len(words)))
