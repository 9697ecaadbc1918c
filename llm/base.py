"""The model abstraction: `BaseLLM`, written once over each backend's `_generate`."""

from __future__ import annotations

import json
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from llm.config import ModelConfig
from llm.errors import ContextWindowExceeded, ExtractionFailed, InvalidOptions
from llm.types import ChatMessage, Completion, Finish, JsonSchema, Options, Timings

logger = logging.getLogger(__name__)

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
T = TypeVar("T", bound=BaseModel)


def fold_system_prompt(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Move system messages into the first user turn, for templates without a system role."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    rest = [m for m in messages if m.role != "system"]
    if not system:
        return rest
    for i, message in enumerate(rest):
        if message.role == "user":
            rest[i] = ChatMessage("user", f"{system}\n\n{message.content}")
            return rest
    return [ChatMessage("user", system), *rest]


class BaseLLM(ABC):
    """A chat model: subclasses implement `_generate`; everything else is written once here."""

    backend: ClassVar[str]
    can_stream: ClassVar[bool] = True
    # Whether `_generate` can constrain its output to a JSON schema (a grammar, a `format`).
    supports_schema: ClassVar[bool] = False

    # Template tokens a chat format adds around each message; an upper bound for the common ones.
    per_message_overhead: ClassVar[int] = 8

    def __init__(
        self,
        *,
        name: str,
        defaults: Options | None = None,
        context_window: int | None = None,
        template_family: str | None = None,
    ) -> None:
        self.name = name
        self.defaults = defaults or Options()
        self.context_window = context_window
        # The prompt family (ModelConfig.template_family): picks per-family prompt files, and
        # "mistral" folds system prompts into the first user turn, because Mistral's chat
        # template rejects a system role.
        self.template_family = template_family

    @classmethod
    def from_config(cls, config: ModelConfig) -> BaseLLM:
        """Build the model a `ModelConfig` describes."""
        return cls(**cls.base_kwargs(config), context_window=config.n_ctx)

    @staticmethod
    def base_kwargs(config: ModelConfig) -> dict[str, Any]:
        """What every backend takes from a `ModelConfig`: name, default options, prompt family."""
        return {
            "name": config.name,
            "defaults": config.defaults,
            "template_family": config.template_family,
        }

    @classmethod
    def preflight(cls, config: ModelConfig) -> None:
        """Cheap checks (files, drivers) that `from_config` would fail; raise `LLMError` if so."""
        return None  # nothing to check for a backend that needs no files or drivers

    def count_tokens(self, text: str) -> int:
        """Tokens in `text`; backends with a tokenizer count exactly, this is an estimate."""
        return len(text) // 3 + 1

    def fit(self, messages: Sequence[ChatMessage], max_tokens: int) -> list[ChatMessage]:
        """Drop the oldest turns until the prompt and `max_tokens` fit the context window.

        System messages and the last message are always kept; if even those do not fit,
        that is the caller's error.
        """
        if self.context_window is None:
            return list(messages)
        budget = self.context_window - max_tokens
        costs = [self.count_tokens(m.content) + self.per_message_overhead for m in messages]
        kept = list(range(len(messages)))
        droppable = [i for i in kept[:-1] if messages[i].role != "system"]
        total = sum(costs)
        while total > budget and droppable:
            i = droppable.pop(0)
            kept.remove(i)
            total -= costs[i]
        if total > budget:
            raise ContextWindowExceeded(
                f"the prompt needs about {total} tokens plus {max_tokens} to generate, but "
                f"{self.name} has a context window of {self.context_window}; "
                "shorten the message or the system prompt, or raise LLM_N_CTX"
            )
        return [messages[i] for i in kept]

    def options(self, **overrides: Any) -> Options:
        """Merge per-call overrides onto this model's defaults, validating both."""
        try:
            return Options.model_validate(self.defaults.model_dump() | overrides)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidOptions(f"invalid generation options: {problems}") from exc

    @abstractmethod
    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        """Yield text chunks as they are produced, then optionally one `Finish`.

        `schema` is passed only to backends that declare `supports_schema`: their output must
        then be JSON valid against it.
        """

    def stream(self, messages: Sequence[ChatMessage], **options: Any) -> Iterator[str | Completion]:
        """Yield text chunks as they are generated, then the `Completion`."""
        return self._stream(messages, self.options(**options), None)

    def _stream(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None
    ) -> Iterator[str | Completion]:
        if self.template_family == "mistral":
            messages = fold_system_prompt(messages)
        messages = self.fit(messages, opts.max_tokens)
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        finish = Finish()
        for item in self._generate(messages, opts, schema):
            if isinstance(item, Finish):
                finish = item
                continue
            if not item:
                continue
            if first is None:
                first = time.perf_counter() - started
            parts.append(item)
            yield item
        completion = Completion(
            text="".join(parts),
            finish_reason=finish.reason,
            usage=finish.usage,
            timings=Timings(time_to_first_token=first, total=time.perf_counter() - started),
        )
        logger.debug(
            "%s: %d prompt + %d completion tokens, first after %.2fs, %.2fs, %.1f tok/s (%s)",
            self.name,
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens,
            first or 0.0,
            completion.timings.total,
            completion.tokens_per_second or 0.0,
            completion.finish_reason,
        )
        yield completion

    def complete(self, messages: Sequence[ChatMessage], **options: Any) -> Completion:
        """Generate a whole reply."""
        return self._complete(messages, self.options(**options), None)

    def _complete(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None
    ) -> Completion:
        for item in self._stream(messages, opts, schema):
            if isinstance(item, Completion):
                return item
        raise AssertionError("_stream() always ends with a Completion")  # pragma: no cover

    def extract(
        self, messages: Sequence[ChatMessage], schema: type[T], *, attempts: int = 3, **options: Any
    ) -> T:
        """An instance of `schema` read from the model's answer to `messages`.

        Backends that can constrain decoding to the schema's JSON Schema do so; the others are
        shown the schema. Either way the answer is validated, and an invalid one is sent back
        with the validation errors, up to `attempts` times, before `ExtractionFailed`.
        """
        options.setdefault("greedy", True)
        opts = self.options(**options)
        json_schema = schema.model_json_schema()
        chat = list(messages)
        if not self.supports_schema:
            instruction = (
                "Answer with one JSON object and nothing else. It must validate against this "
                f"JSON Schema:\n{json.dumps(json_schema)}"
            )
            chat.append(ChatMessage("user", instruction))
        problem = ""
        for _ in range(attempts):
            completion = self._complete(chat, opts, json_schema if self.supports_schema else None)
            text = completion.text.strip()
            if fenced := _FENCE.match(text):
                text = fenced.group(1)
            try:
                return schema.model_validate_json(text)
            except ValidationError as exc:
                problem = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or '(object)'}: {e['msg']}"
                    for e in exc.errors()
                )
            chat += [
                ChatMessage("assistant", completion.text),
                ChatMessage(
                    "user",
                    f"That is not valid ({problem}). Answer again with only the corrected JSON.",
                ),
            ]
        raise ExtractionFailed(
            f"{self.name} gave no valid {schema.__name__} in {attempts} attempts; "
            f"last problem: {problem}"
        )

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release what the backend holds (weights, connections)."""
