"""Every model call measured: a `CallRecord` per call, as Prometheus series and to listeners.

`BaseLLM.stream`, `complete` and `extract` (the calls from outside the model layer) each
report one record when they end, well or not: the role and the conversation they were made
for (`call_context`, set by the caller), the model that answered (in a chain, the one that
did), its tier and the models that failed over, the token counts and the times. The
Prometheus series (`salesbot_llm_*`) live in this process's registry, or in
`PROMETHEUS_MULTIPROC_DIR` when set (prometheus-client's multiprocess mode), so that the web
process can serve the workers' counts; a listener (the app's, which stores each call in the
database) is told of every record. A failing listener is logged, never the caller's failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Histogram

from llm.errors import Preempted
from llm.types import Completion

logger = logging.getLogger(__name__)

_LATENCY = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128)
REQUESTS = Counter(
    "salesbot_llm_requests", "Model calls, by how they ended.", ["role", "model", "tier", "outcome"]
)
ERRORS = Counter(
    "salesbot_llm_errors", "Model calls that failed, by error type.", ["role", "error"]
)
FAILOVERS = Counter(
    "salesbot_llm_failovers", "Models of a chain that failed a call another answered.",
    ["role", "model"],
)  # fmt: skip
TOKENS = Counter("salesbot_llm_tokens", "Tokens read and written.", ["role", "model", "kind"])
COST = Counter(
    "salesbot_llm_cost", "What the calls cost (the models' prices, LLM_COST_CURRENCY).",
    ["role", "model"],
)  # fmt: skip
FIRST_TOKEN = Histogram(
    "salesbot_llm_time_to_first_token_seconds", "Seconds to a call's first text.",
    ["role", "model"], buckets=_LATENCY,
)  # fmt: skip
DURATION = Histogram(
    "salesbot_llm_duration_seconds", "Seconds a call took.", ["role", "model"], buckets=_LATENCY
)


@dataclass(frozen=True)
class CallRecord:
    """One model call, as it ended."""

    role: str
    model: str  # the model that answered, else the one called
    backend: str
    # ok; error; preempted (background work that gave way); stopped (the caller stopped
    # reading: a reply withheld for a leak, an erased conversation), its tokens estimated
    outcome: str
    total_s: float
    context: Mapping[str, Any] = field(default_factory=dict)  # the caller's (`call_context`)
    tier: str = ""
    error_type: str = ""
    failovers: tuple[str, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None
    agreement: float | None = None
    cost: float = 0.0

    @property
    def tokens_per_second(self) -> float | None:
        seconds = self.total_s - (self.first_token_s or 0.0)
        return self.completion_tokens / seconds if self.completion_tokens and seconds > 0 else None


_context: ContextVar[Mapping[str, Any] | None] = ContextVar("llm_call_context", default=None)
_listeners: list[Callable[[CallRecord], object]] = []


@contextmanager
def call_context(**values: Any) -> Iterator[None]:
    """What the calls inside are for: `role` (reply, extraction, …) and whatever the listeners
    record with them (a conversation's id)."""
    token = _context.set({**(_context.get() or {}), **values})
    try:
        yield
    finally:
        _context.reset(token)


def current() -> Mapping[str, Any]:
    """What the calls being made now are for (`call_context`)."""
    return _context.get() or {}


def listen(listener: Callable[[CallRecord], object]) -> None:
    """Tell `listener` of every call's record (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


def unlisten(listener: Callable[[CallRecord], object]) -> None:
    """Stop telling `listener` (a test's)."""
    if listener in _listeners:
        _listeners.remove(listener)


def _report(record: CallRecord) -> None:
    role, model = record.role, record.model
    REQUESTS.labels(role, model, record.tier, record.outcome).inc()
    DURATION.labels(role, model).observe(record.total_s)
    if record.first_token_s is not None:
        FIRST_TOKEN.labels(role, model).observe(record.first_token_s)
    if record.outcome == "error":
        ERRORS.labels(role, record.error_type).inc()
    for failed in record.failovers:
        FAILOVERS.labels(role, failed).inc()
    TOKENS.labels(role, model, "prompt").inc(record.prompt_tokens)
    TOKENS.labels(role, model, "completion").inc(record.completion_tokens)
    COST.labels(role, model).inc(record.cost)
    for listener in list(_listeners):
        try:
            listener(record)
        except Exception:
            logger.exception("a model call's record could not be kept")


# What a stream stopped early used, from the chunks it gave and its seconds: the prompt tokens
# (counted or estimated), the completion tokens, and the cost.
StoppedUsage = Callable[[int, float], tuple[int, int, float]]


def observed(
    name: str,
    backend: str,
    items: Iterator[str | Completion],
    stopped_usage: StoppedUsage | None = None,
) -> Iterator[str | Completion]:
    """`items` (a model's stream) passed through, and its call reported when it ends — also
    when the caller stops reading early, with `stopped_usage`'s counts: the engine still read
    the prompt and wrote what was shown, and a Site's day of tokens must count it."""
    context = dict(_context.get() or {})
    started = time.perf_counter()
    first: float | None = None
    chunks = 0
    stopped = False
    done: Completion | None = None
    # How it failed, as text: holding the exception would tie this frame to its traceback,
    # and keep the streams inside (a resident model's "in use") alive until a GC pass.
    failed: tuple[str, str] | None = None  # (outcome, error type)
    try:
        for item in items:
            if isinstance(item, Completion):
                done = item
            else:
                chunks += 1
                if first is None:
                    first = time.perf_counter() - started
            yield item
    except GeneratorExit:
        stopped = True
        raise
    except BaseException as exc:
        failed = ("preempted" if isinstance(exc, Preempted) else "error", type(exc).__name__)
        raise
    finally:
        total = time.perf_counter() - started
        record: CallRecord | None = None
        if done is not None:
            record = CallRecord(
                role=str(context.get("role", "")),
                model=done.model,
                backend=backend,
                outcome="ok",
                total_s=total,
                context=context,
                tier=done.route.tier if done.route else "",
                failovers=done.failed_over,
                prompt_tokens=done.usage.prompt_tokens,
                completion_tokens=done.usage.completion_tokens,
                first_token_s=first,
                agreement=done.agreement,
                cost=done.cost,
            )
        elif failed is not None:
            record = CallRecord(
                role=str(context.get("role", "")),
                model=name,
                backend=backend,
                outcome=failed[0],
                total_s=total,
                context=context,
                error_type=failed[1],
                first_token_s=first,
            )
        elif stopped and stopped_usage is not None:
            prompt_tokens, completion_tokens, cost = stopped_usage(chunks, total)
            record = CallRecord(
                role=str(context.get("role", "")),
                model=name,
                backend=backend,
                outcome="stopped",
                total_s=total,
                context=context,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                first_token_s=first,
                cost=cost,
            )
        if record is not None:
            _report(record)
