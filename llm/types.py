"""The model layer's values: chat messages, options, and what a generation returns.

Frozen dataclasses and one pydantic model, with no behaviour beyond cheap properties, so that
`base`, `config` and every backend can share them without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Who speaks in a chat message (a Message.Role of the domain maps onto one of these).
ChatRole = Literal["system", "user", "assistant"]
# The jobs a model does for salesbot; config/llm.yaml maps each to a model under `roles:`.
ModelRole = Literal["reply", "extraction", "summary"]
# How much of a visitor's reply a model may write (ModelConfig.capability), least first.
Capability = Literal["acknowledge", "compose"]
CAPABILITIES: tuple[Capability, ...] = ("acknowledge", "compose")


def least_capability(capabilities: Iterable[Capability]) -> Capability:
    """What a group of models (a chain, a router, an ensemble) may all be trusted with: any
    of them may be the one that answers."""
    return min(capabilities, key=CAPABILITIES.index, default="acknowledge")


JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    role: ChatRole
    content: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Of the prompt, the leading tokens the engine reused from an earlier evaluation (a warm
    # conversation's history) instead of evaluating them again; 0 when a backend cannot tell.
    cached_tokens: int = 0


class StopGenerating(Exception):
    """Thrown into a backend's `_generate` at a `yield` when the caller has what it needs.

    A backend may catch it there, stop its engine and yield its `Finish` with the real counts;
    one that does not is simply closed.
    """


@dataclass(frozen=True)
class Timings:
    time_to_first_token: float | None
    total: float


@dataclass(frozen=True)
class Finish:
    """What a backend yields last: why it stopped and what it counted."""

    reason: str = "stop"
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class Route:
    """Where the router (`llm.router`) sent a call, and why."""

    tier: str  # simple, medium or complex
    score: float  # the message's complexity, 0 to 1
    reasons: tuple[str, ...]  # each signal that counted, e.g. "pricing: discount"


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str
    usage: Usage
    timings: Timings
    model: str  # the name of the model that produced it (in a chain, the one that ended it)
    # In a chain, the models that failed this call before `model` ended it, in order. When
    # one of them had begun the text, `model` continued it: `usage` is `model`'s own.
    failed_over: tuple[str, ...] = ()
    route: Route | None = None  # set by the router: the tier that answered, and why
    # Set by an ensemble: the winning answer's mean cosine similarity to the other answers.
    agreement: float | None = None
    # What the call cost (`ModelConfig.price`), in the deployment's currency; an ensemble's
    # is every answer's.
    cost: float = 0.0

    @property
    def tokens_per_second(self) -> float | None:
        """Generation speed over the whole call, or None when nothing was generated."""
        tokens, seconds = self.usage.completion_tokens, self.timings.total
        return tokens / seconds if tokens and seconds > 0 else None


class Options(BaseModel):
    """Generation options shared by every backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int = Field(256, ge=1, le=32768, description="Most tokens to generate.")
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature.")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    top_k: int = Field(40, ge=0, le=1000, description="Sample from the k likeliest (0: all).")
    repeat_penalty: float = Field(1.1, ge=0.5, le=2.0, description="Penalty on repeated tokens.")
    greedy: bool = Field(False, description="Always take the likeliest token.")
    stop: tuple[str, ...] = Field((), max_length=16, description="Strings that end generation.")
    seed: int | None = Field(None, ge=0, description="Random seed for reproducible sampling.")
    max_sentences: int | None = Field(
        None, ge=1, le=50, description="Stop right after this many finished sentences."
    )
    cache_slot: int | None = Field(
        None,
        ge=0,
        description="A model server's slot to run in (llama.cpp's server: `id_slot`), so that a "
        "conversation returns to the slot that holds its evaluated prompt; backends without "
        "slots ignore it.",
    )
