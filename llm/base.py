"""The model abstraction: `BaseLLM`, written once over each backend's `_generate`."""

from __future__ import annotations

import json
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from llm.chats import begun_reply, fold_system_prompt
from llm.config import ModelConfig, Price
from llm.errors import (
    CannotContinue,
    ContextWindowExceeded,
    ExtractionFailed,
    InvalidOptions,
    Preempted,
)
from llm.metrics import observed
from llm.sentences import SentenceCut
from llm.types import (
    Capability,
    ChatMessage,
    Completion,
    Finish,
    JsonSchema,
    Options,
    StopGenerating,
    Timings,
    Usage,
)

logger = logging.getLogger(__name__)

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
T = TypeVar("T", bound=BaseModel)
# What every backend takes from its ModelConfig: the rest is each backend's own.
CONFIG_FIELDS = ("name", "defaults", "template_family", "price", "capability")


def schema_instruction(schema: JsonSchema) -> ChatMessage:
    """What a model that cannot constrain its output to a JSON Schema is told instead."""
    return ChatMessage(
        "user",
        "Answer with one JSON object and nothing else. It must validate against this JSON "
        f"Schema:\n{json.dumps(schema)}",
    )


def constrained(
    model: BaseLLM, messages: Sequence[ChatMessage], schema: JsonSchema | None
) -> tuple[list[ChatMessage], JsonSchema | None]:
    """The chat and the schema to pass to `model`'s `_stream`, for a model that wraps others:
    the schema itself to a model that can constrain its output to it, else told in the chat."""
    if schema is not None and not model.supports_schema:
        return [*messages, schema_instruction(schema)], None
    return list(messages), schema


# Set by `background`: asked between chunks whether work that goes first wants the model.
_interrupt: ContextVar[Callable[[], bool] | None] = ContextVar("llm_interrupt", default=None)


@contextmanager
def background(interrupt: Callable[[], bool]) -> Iterator[None]:
    """Run the generations inside as background work: each raises `Preempted` instead of
    starting, or stops between two chunks, as soon as `interrupt()` is true.

    The caller waits for the work that goes first and runs its generation again; a backend that
    keeps evaluated prompts (llama.cpp's saved states, a server's cache) makes that cheap.
    """
    token = _interrupt.set(interrupt)
    try:
        yield
    finally:
        _interrupt.reset(token)


def background_interrupt() -> Callable[[], bool] | None:
    """The question `background` asks, for a backend that can also act on it between chunks
    (a server that sends none while it reads a prompt); None outside background work."""
    return _interrupt.get()


def _last(items: Iterator[str | Completion]) -> Completion:
    """The `Completion` a stream ends with."""
    for item in items:
        if isinstance(item, Completion):
            return item
    raise AssertionError("_stream() always ends with a Completion")  # pragma: no cover


def _stop(generation: Iterator[str | Finish], *, produced: int) -> Finish:
    """End `generation` early; its own counts when it reports them (see `StopGenerating`)."""
    ended = Finish(reason="sentences", usage=Usage(0, produced))
    if not isinstance(generation, Generator):
        return ended
    try:
        item = generation.throw(StopGenerating())
        while not isinstance(item, Finish):
            item = next(generation)
        return Finish(reason="sentences", usage=item.usage)
    except (StopGenerating, StopIteration):
        return ended
    finally:
        generation.close()


class BaseLLM(ABC):
    """A chat model: subclasses implement `_generate`; everything else is written once here."""

    backend: ClassVar[str]
    can_stream: ClassVar[bool] = True
    # Whether `_generate` can constrain its output to a JSON schema (a grammar, a `format`).
    supports_schema: ClassVar[bool] = False
    # Whether `_generate` continues a chat's final assistant message, as that message's next
    # words, instead of starting a new turn after it: how a chain's next model takes over a
    # reply another one began (`llm.failover`). An instance may say (a server that can or not).
    can_continue: bool = False

    # Template tokens a chat format adds around each message; an upper bound for the common ones.
    per_message_overhead: ClassVar[int] = 8

    def __init__(
        self,
        *,
        name: str,
        defaults: Options | None = None,
        context_window: int | None = None,
        template_family: str | None = None,
        price: Price | None = None,
        capability: Capability = "acknowledge",
    ) -> None:
        self.name = name
        self.price = price or Price()  # what a call costs (tokens, the machine's time)
        self.defaults = defaults or Options()
        self.context_window = context_window
        # ModelConfig's: the prompt family ("mistral" folds system prompts into the first user
        # turn: its chat template rejects a system role); how much of a reply it may write.
        self.template_family = template_family
        self.capability: Capability = capability

    @classmethod
    def from_config(cls, config: ModelConfig) -> BaseLLM:
        """Build the model a `ModelConfig` describes."""
        return cls(**cls.base_kwargs(config), context_window=config.n_ctx)

    @staticmethod
    def base_kwargs(config: ModelConfig) -> dict[str, Any]:
        """What every backend takes from a `ModelConfig` (`CONFIG_FIELDS`)."""
        return {field: getattr(config, field) for field in CONFIG_FIELDS}

    @classmethod
    def preflight(cls, config: ModelConfig) -> None:
        """Cheap checks (files, drivers) that `from_config` would fail; raise `LLMError` if so."""
        return None  # nothing to check for a backend that needs no files or drivers

    def count_tokens(self, text: str) -> int:
        """Tokens in `text`, estimated (backends with a tokenizer count): one a three characters,
        one more a UTF-8 byte past a character's first (an accented letter is a token)."""
        return len(text) // 3 + len(text.encode()) - len(text) + 1

    def fit(self, messages: Sequence[ChatMessage], max_tokens: int) -> list[ChatMessage]:
        """Drop the oldest turns until the prompt and `max_tokens` fit the context window.

        The leading system messages and everything from the last user message on (the
        message being answered, and any note after it) are always kept; if even those do not
        fit, that is the caller's error.
        """
        if self.context_window is None:
            return list(messages)
        budget = self.context_window - max_tokens
        costs = [self.count_tokens(m.content) + self.per_message_overhead for m in messages]
        kept = list(range(len(messages)))
        first = next((i for i, m in enumerate(messages) if m.role != "system"), len(messages))
        users = [i for i, m in enumerate(messages) if m.role == "user"]
        last = users[-1] if users else len(messages) - 1
        droppable = list(range(first, last))
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
        then be JSON valid against it. When the caller stops early (`Options.max_sentences`),
        `StopGenerating` is thrown in at the `yield`: catch it to stop the engine and still
        yield the `Finish` with its counts.
        """

    def stream(self, messages: Sequence[ChatMessage], **options: Any) -> Iterator[str | Completion]:
        """Yield text chunks as they are generated, then the `Completion`."""
        return self._observed(messages, self.options(**options), None)

    def _observed(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None
    ) -> Iterator[str | Completion]:
        """`_stream`, reported as one call (`llm.metrics`): what callers outside the model
        layer get; models that wrap others call each other's `_stream`."""

        def stopped_usage(chunks: int, seconds: float) -> tuple[int, int, float]:
            # Stopped early: the prompt counted as `fit` counts it, a token a chunk shown.
            prompt = sum(self.count_tokens(m.content) + self.per_message_overhead for m in messages)
            return prompt, chunks, self.price.cost(Usage(prompt, chunks), seconds)

        stream = self._stream(messages, opts, schema)
        return observed(self.name, self.backend, stream, stopped_usage)

    def _stream(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None
    ) -> Iterator[str | Completion]:
        """Yield the text chunks, then the `Completion`.

        A chat that ends with an assistant message is continued: what is yielded (and the
        `Completion`'s text) follows that message's text, which counts towards
        `max_sentences`.
        """
        messages, begun = self._begun(messages)
        if self.template_family == "mistral":
            messages = fold_system_prompt(messages)
        messages = self.fit(messages, opts.max_tokens)
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        finish = Finish()
        cut = SentenceCut(opts.max_sentences, prefix=begun)
        # The begun text's trailing space was left out of the prompt (see `_begun`): the
        # model writes its own, which the reader already has.
        trim = begun != begun.rstrip()
        interrupt = _interrupt.get()
        if interrupt is not None and interrupt():
            raise Preempted(f"{self.name} is wanted by work that goes first")
        generation = self._generate(messages, opts, schema)
        for item in generation:
            if isinstance(item, Finish):
                finish = item
                continue
            if interrupt is not None and interrupt():
                _stop(generation, produced=len(parts))
                raise Preempted(f"{self.name} was wanted by work that goes first")
            if trim:
                item = item.lstrip()
                trim = not item
            item = cut.feed(item)
            if item:
                if first is None:
                    first = time.perf_counter() - started
                parts.append(item)
                yield item
            if cut.done:
                finish = _stop(generation, produced=len(parts))
                break
        total = time.perf_counter() - started
        completion = Completion(
            text="".join(parts),
            finish_reason=finish.reason,
            usage=finish.usage,
            timings=Timings(time_to_first_token=first, total=total),
            model=self.name,
            cost=self.price.cost(finish.usage, total),
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

    def _begun(self, messages: Sequence[ChatMessage]) -> tuple[Sequence[ChatMessage], str]:
        """`messages` as the backend gets them, and the text of the reply they begin ("" for
        a chat that ends with the other side's turn).

        The begun reply goes to the backend without its trailing whitespace: a prompt that
        ends in a space ends on a token the model would not have chosen (it writes " word",
        space included), and what it writes next suffers.
        """
        begun = begun_reply(messages)
        if begun is None:
            return messages, ""
        if not self.can_continue:
            raise CannotContinue(
                f"{self.name} ({self.backend}) cannot continue a reply that another model "
                "began; see docs/configuration.md, failover"
            )
        return [*messages[:-1], ChatMessage("assistant", begun.rstrip())], begun

    def complete(self, messages: Sequence[ChatMessage], **options: Any) -> Completion:
        """Generate a whole reply."""
        return _last(self._observed(messages, self.options(**options), None))

    def _complete(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None
    ) -> Completion:
        """A whole reply, not reported as a call of its own (a part of one)."""
        return _last(self._stream(messages, opts, schema))

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
            chat.append(schema_instruction(json_schema))
        problem = ""
        for _ in range(attempts):
            constraint = json_schema if self.supports_schema else None
            completion = _last(self._observed(chat, opts, constraint))
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

    def ready(self) -> BaseLLM:
        """The model that answers first, loaded: this one; a model that wraps others (a chain,
        a router) loads theirs."""
        return self

    def warm(self, messages: Sequence[ChatMessage], *, slot: int | None = None) -> bool:
        """Evaluate `messages` now, so that a later prompt that begins with them (a Site's system
        prompt, shared by all its conversations) reads only what follows.

        Where the engine keeps an evaluated prompt from one call to the next: the server's
        `slot`, or this process's own context. Only a place that holds no prompt yet is warmed,
        so that no conversation's prompt is replaced; True when `messages` were evaluated.
        Engines that keep nothing between calls have nothing to warm.
        """
        if not self._holds_nothing(slot):
            return False
        # One token: what matters is the prompt, which the place then holds. Not a call of
        # anyone's: not reported.
        self._complete(messages, self.options(max_tokens=1, greedy=True, cache_slot=slot), None)
        return True

    def _holds_nothing(self, slot: int | None) -> bool:
        """Whether the place `warm` would fill keeps prompts between calls and holds none now;
        False for engines that keep nothing (and so have nothing to warm)."""
        return False

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release what the backend holds (weights, connections)."""
