"""Failover: a role served by a chain of models (`roles: {reply: [mistral-gpu, local]}`), each
taking over when the one before it fails.

`FailoverLLM` is itself a `BaseLLM`, so the reply path, the extraction and `manage.py chat` get
it through `get_llm` unchanged. A call goes to the first model of the chain that is not cooling
down. An error that may pass (`TransientError`: a server down, slow or failing) is tried again
on the same model after a back-off that doubles; any other error (a missing file, a prompt too
long for that model) moves straight on. A model that fails `failures` calls in a row is passed
over for `cooldown_s`, unless every model is cooling, when the one whose cooldown ends first is
tried. A stream that fails before its first text moves to the next model unseen by the caller.
One that fails after sending text is continued by the next model that can continue a reply
(`BaseLLM.can_continue`): the words already sent open its turn, and it writes what follows
them, so the caller gets one reply, no word of it twice; the `Completion` holds the whole.
When no model can, the call raises rather than end the reply silently. JSON under a schema
is never taken up halfway (a grammar starts at the top): it raises too. `Preempted` is never
failed over: it asks background work to give the model up, not for another model.

Models are built on their first call (a worker builds the first one as it starts), so a model
that cannot load here (a file, a package or a GPU missing) costs its turn in the chain, not
the worker's start; it is then passed over for `cooldown_s`, not built again on every call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from llm.base import BaseLLM, background_interrupt, constrained
from llm.config import ModelConfig
from llm.errors import (
    CannotContinue,
    ChainFailed,
    ChainUnavailable,
    LLMError,
    Preempted,
    TransientError,
)
from llm.settings import FailoverSettings
from llm.types import (
    ChatMessage,
    Completion,
    Finish,
    JsonSchema,
    Options,
    Timings,
    least_capability,
)

logger = logging.getLogger(__name__)


def chain_error(what: str, errors: Sequence[tuple[str, LLMError]]) -> ChainFailed:
    """`what` happened to a chain, with each model's reason: `ChainUnavailable` when every
    error may pass, else `ChainFailed`."""
    said = "; ".join(f"{name}: {exc}" for name, exc in errors)
    if all(isinstance(exc, TransientError) for _, exc in errors):
        return ChainUnavailable(f"{what}, for now ({said})")
    return ChainFailed(f"{what} ({said})")


@dataclass
class _Member:
    config: ModelConfig
    build: Callable[[ModelConfig], BaseLLM]
    model: BaseLLM | None = None
    failed_in_a_row: int = 0  # calls, not attempts
    cool_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.config.name

    def get(self) -> BaseLLM:
        with self.lock:
            if self.model is None:
                self.model = self.build(self.config)
            return self.model

    def succeeded(self) -> None:
        self.failed_in_a_row, self.cool_until = 0, 0.0


class FailoverLLM(BaseLLM):
    """The models of a chain, each taking over when the one before it fails."""

    backend = "failover"
    supports_schema = True  # passed on to the models that can use it

    def __init__(
        self,
        configs: Sequence[ModelConfig],
        *,
        build: Callable[[ModelConfig], BaseLLM],
        policy: FailoverSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        if not configs:
            raise ValueError("a failover chain needs at least one model")
        head = configs[0]
        kwargs.setdefault("name", " > ".join(c.name for c in configs))
        super().__init__(
            defaults=head.defaults,
            context_window=head.n_ctx,
            template_family=head.template_family,
            capability=least_capability(c.capability for c in configs),
            **kwargs,
        )
        self.members = [_Member(config, build) for config in configs]
        self.policy = policy or FailoverSettings()
        self._clock, self._sleep = clock, sleep

    def _order(self) -> list[_Member]:
        """The members to try, in chain order, the cooling ones left out (unless all are)."""
        now = self._clock()
        ready = [m for m in self.members if m.cool_until <= now]
        return ready or sorted(self.members, key=lambda m: m.cool_until)[:1]

    def _failed(self, member: _Member, exc: LLMError) -> None:
        """One more call `member` failed (after its retries)."""
        member.failed_in_a_row += 1
        if member.failed_in_a_row >= self.policy.failures:
            self._cool(member, f"failed {member.failed_in_a_row} calls in a row (last: {exc})")

    def _cool(self, member: _Member, why: str) -> None:
        member.cool_until = self._clock() + self.policy.cooldown_s
        logger.warning("model %s %s; passed over for %gs", member.name, why, self.policy.cooldown_s)

    def _built(self, member: _Member) -> BaseLLM:
        """`member`'s model; one that cannot be built here cools at once (a file, a package or
        a GPU missing does not come back in a second), so it is not tried on every call."""
        try:
            return member.get()
        except LLMError as exc:
            if not isinstance(exc, TransientError):
                self._cool(member, f"cannot be built here ({exc})")
            raise

    def ready(self) -> BaseLLM:
        """The model that serves first now (built): the first one not cooling that can be
        built. It decides the generation options, the token counts and what is warmed."""
        errors: list[tuple[str, LLMError]] = []
        for member in self._order():
            try:
                return self._built(member)
            except LLMError as exc:
                errors.append((member.name, exc))
        raise self._chain_error(errors)

    def _chain_error(self, errors: list[tuple[str, LLMError]]) -> ChainFailed:
        return chain_error(f"every model of {self.name} failed", errors)

    def _stream(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None
    ) -> Iterator[str | Completion]:
        started = time.perf_counter()
        first: float | None = None
        sent: list[str] = []  # what the caller holds of the reply
        failed: list[str] = []
        errors: list[tuple[str, LLMError]] = []
        for member in self._order():
            begun = "".join(sent)
            begun = begun if begun.strip() else ""  # white space alone: start afresh
            try:
                for item in self._member_call(member, messages, opts, schema, begun):
                    if isinstance(item, Completion):
                        yield replace(
                            item,
                            text=begun + item.text,
                            timings=Timings(first, time.perf_counter() - started),
                            failed_over=tuple(failed),
                        )
                        return
                    first = time.perf_counter() - started if first is None else first
                    sent.append(item)
                    yield item
            except Preempted:
                raise
            except CannotContinue as exc:
                errors.append((member.name, exc))  # not the model's failure: no cooldown
            except LLMError as exc:
                self._failed(member, exc)
                failed.append(member.name)
                errors.append((member.name, exc))
                if sent and schema is not None:
                    raise  # JSON under a grammar cannot be taken up halfway
                logger.warning(
                    "model %s failed (%s); the next %s", member.name, exc,
                    "continues the reply" if sent else "takes over",
                )  # fmt: skip
        raise self._chain_error(errors)

    def _member_call(
        self,
        member: _Member,
        messages: Sequence[ChatMessage],
        opts: Options,
        schema: JsonSchema | None,
        begun: str,
    ) -> Iterator[str | Completion]:
        """One call on `member`, continuing the reply `begun` if another model began one,
        tried again after errors that may pass until its first text goes out."""
        for attempt in range(self.policy.retries + 1):
            sent = False
            try:
                model = self._built(member)
                chat, constraint = constrained(model, messages, schema)
                asked = opts
                if begun:
                    # The reply's words so far open the model's turn, and count towards its
                    # length: it writes what follows them, as much as was left to write.
                    chat.append(ChatMessage("assistant", begun))
                    left = opts.max_tokens - model.count_tokens(begun)
                    asked = opts.model_copy(update={"max_tokens": max(left, 1)})
                for item in model._stream(chat, asked, constraint):
                    if isinstance(item, Completion):
                        member.succeeded()  # before the caller may stop reading
                    else:
                        sent = True
                    yield item
                return
            except (Preempted, CannotContinue):
                raise
            except LLMError as exc:
                if sent or not isinstance(exc, TransientError) or attempt == self.policy.retries:
                    raise
                interrupt = background_interrupt()
                if interrupt is not None and interrupt():
                    raise Preempted(f"{self.name} was wanted by work that goes first") from exc
                self._sleep(self.policy.backoff_s * 2**attempt)

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        raise NotImplementedError("a chain streams through its models' own _stream")

    def options(self, **overrides: Any) -> Options:
        return self.ready().options(**overrides)

    def count_tokens(self, text: str) -> int:
        return self.ready().count_tokens(text)

    def warm(self, messages: Sequence[ChatMessage], *, slot: int | None = None) -> bool:
        return self.ready().warm(messages, slot=slot)

    def close(self) -> None:
        for member in self.members:
            if member.model is not None:
                member.model.close()
