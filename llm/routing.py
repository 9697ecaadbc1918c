"""How hard a message is to answer: a complexity score, and the tier of models it goes to.

The score reads the message being answered and the conversation before it: how long it is, how
many questions it asks, words of complaint, cancellation, booking, pricing and negotiation, its
sentiment (VADER, a lexicon that needs no model), how deep the conversation is, and whether it
asks for something to be done. Each signal is worth 0 to 1, times its weight in the settings;
their sum, at most 1, is the score, and each signal that counted is given as a reason. The
tiers' thresholds (`router:` in config/llm.yaml) map the score to simple, medium or complex.
Pure functions over chat messages: `llm.router` applies them to every call.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from llm.types import ChatMessage, ModelRole, Route

TIERS = ("simple", "medium", "complex")

# English by default; `router.words` adds a Site's languages. Matched as whole words and
# phrases, case-insensitively: a word ending in * as a prefix, a * between words as up to three
# words ("add * seat*": "add 10 more seats").
WORDS: dict[str, tuple[str, ...]] = {
    "complaint": (
        "complain*", "broken", "bug", "bugs", "buggy", "not working", "doesn't work",
        "does not work", "isn't working", "disappoint*", "terrible", "awful", "worst",
        "unacceptable", "frustrat*", "angry", "annoy*", "useless", "a problem with",
        "problems with", "an issue with", "issues with", "error", "errors", "crash*", "refund*",
        "still waiting", "nobody answers", "no one answers",
    ),
    "cancellation": (
        "cancel*", "unsubscribe*", "terminate", "termination", "end my contract",
        "close my account", "delete my account", "opt out", "switch to another",
    ),
    "booking": (
        "book", "booking", "booked", "schedule*", "appointment*", "demo", "demos", "meeting*",
        "call me", "calendar", "reschedul*", "availability",
    ),
    "pricing": (
        "price", "prices", "priced", "pricing", "cost", "costs", "how much", "quote", "quotes",
        "quotation", "budget", "budgets", "invoice*", "billing", "billed", "per seat",
        "per month", "per user", "which plan", "what plan", "pricing plan*", "paid plan*",
        "free plan", "fee", "fees", "payment*",
    ),
    "negotiation": (
        "discount*", "cheaper", "negotiat*", "better deal", "better price", "match the price",
        "competitor*", "lower the price", "too expensive", "coupon*", "special offer",
        "volume pricing", "bulk pricing",
    ),
    "action": (
        "send me", "email me", "call me", "set me up", "sign me up", "upgrade", "downgrade",
        "change my", "update my", "add * seat*", "refund", "cancel", "book", "can you arrange",
        "please arrange", "please send", "could you send", "i need you to",
    ),
}  # fmt: skip


class RouterWeights(BaseModel):
    """What each signal adds to the score at its strongest (the score is capped at 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    length: float = Field(0.2, ge=0, le=1, description="A long message (80 words or more).")
    questions: float = Field(0.25, ge=0, le=1, description="Three questions or more in it.")
    complaint: float = Field(0.5, ge=0, le=1, description="Words of complaint.")
    cancellation: float = Field(0.5, ge=0, le=1, description="Words of cancellation.")
    booking: float = Field(0.2, ge=0, le=1, description="Booking a call, a demo, a meeting.")
    pricing: float = Field(0.2, ge=0, le=1, description="Prices, plans, billing.")
    negotiation: float = Field(0.5, ge=0, le=1, description="Discounts, competitors' prices.")
    sentiment: float = Field(0.3, ge=0, le=1, description="Negative sentiment (VADER), at -1.")
    history: float = Field(0.15, ge=0, le=1, description="A deep conversation (9 turns or more).")
    action: float = Field(0.15, ge=0, le=1, description="Something asked to be done.")


class TierSettings(BaseModel):
    """One tier: the model, or chain of models, that answers its messages, and how far up
    the score it reaches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | list[str] | None = Field(
        None, description="A model or a chain; unset: the routed role's own chain."
    )
    ensemble: bool = Field(
        False, description="Answered by the ensemble (`ensemble:`) instead of one model."
    )
    up_to: float | None = Field(
        None, gt=0, le=1, description="Scores below this go to the tier (complex: the rest)."
    )


class RouterSettings(BaseModel):
    """`router:` in config/llm.yaml: the role whose calls are routed, its tiers, the weights."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: ModelRole = Field("reply", description="The role routed: its calls go to the tiers.")
    simple: TierSettings = Field(default_factory=lambda: TierSettings(up_to=0.2))
    medium: TierSettings = Field(default_factory=lambda: TierSettings(up_to=0.5))
    complex: TierSettings = Field(default_factory=TierSettings)
    weights: RouterWeights = Field(default_factory=RouterWeights)
    words: dict[str, list[str]] = Field(
        default_factory=dict, description="More words for a signal: {pricing: [preis, prix]}."
    )

    @model_validator(mode="after")
    def _thresholds(self) -> RouterSettings:
        for name in TIERS:
            if self.tier(name).ensemble and self.tier(name).model is not None:
                raise ValueError(f"router.{name}: a model or the ensemble, not both")
        simple, medium = self.simple.up_to, self.medium.up_to
        if simple is None or medium is None:
            raise ValueError("router: simple and medium each need `up_to` (a score, 0 to 1)")
        if not simple < medium:
            raise ValueError(f"router: simple.up_to ({simple}) must be below medium's ({medium})")
        if self.complex.up_to is not None:
            raise ValueError("router: complex takes every score from medium.up_to on: no up_to")
        unknown = sorted(set(self.words) - set(WORDS))
        if unknown:
            raise ValueError(f"router.words: unknown signals {unknown}; known: {sorted(WORDS)}")
        for signal, words in self.words.items():
            bad = [w for w in words if w != w.strip() or not re.search(r"\w", w)]
            if bad:
                raise ValueError(
                    f"router.words.{signal}: {bad} must be words, without spaces around"
                )
        return self

    def tier(self, name: str) -> TierSettings:
        return {"simple": self.simple, "medium": self.medium, "complex": self.complex}[name]


def _pattern(words: Sequence[str]) -> re.Pattern[str]:
    alternatives = [
        re.escape(w.lower()).replace(r"\ \*\ ", r" (?:\S+ ){0,3}").replace(r"\*", r"\w*")
        for w in words
    ]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


@functools.cache
def _patterns(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, re.Pattern[str]]:
    added = dict(extra)
    return {signal: _pattern([*words, *added.get(signal, ())]) for signal, words in WORDS.items()}


@functools.cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def route(messages: Sequence[ChatMessage], settings: RouterSettings) -> Route:
    """The tier for answering `messages` (their last visitor message), with the score and the
    reasons it was given."""
    said = [m.content for m in messages if m.role == "user"]
    text = said[-1] if said else ""
    lowered = text.lower().replace("\u2019", "'")
    weights = settings.weights
    extra = tuple(sorted((k, tuple(w.lower() for w in v)) for k, v in settings.words.items()))
    signals: list[tuple[str, float, str]] = []  # (signal, strength 0-1, reason)
    words = len(text.split())
    if words >= 20:
        signals.append(("length", min(words / 80, 1.0), f"{words} words"))
    questions = text.count("?")
    if questions >= 2:
        signals.append(("questions", min((questions - 1) / 2, 1.0), f"{questions} questions"))
    for signal, pattern in _patterns(extra).items():
        found = sorted({m.group(0) for m in pattern.finditer(lowered)})
        if found:
            signals.append((signal, 1.0, f"{signal}: {', '.join(found[:3])}"))
    mood = float(_vader().polarity_scores(text)["compound"]) if text else 0.0
    if mood < -0.05:
        signals.append(("sentiment", -mood, f"negative sentiment ({mood:.2f})"))
    if len(said) >= 3:
        signals.append(("history", min((len(said) - 1) / 8, 1.0), f"turn {len(said)}"))
    score = min(float(sum(getattr(weights, s) * strength for s, strength, _ in signals)), 1.0)
    reasons = tuple(reason for s, strength, reason in signals if getattr(weights, s) * strength)
    if score < (settings.simple.up_to or 0.0):
        tier = "simple"
    elif score < (settings.medium.up_to or 1.0):
        tier = "medium"
    else:
        tier = "complex"
    return Route(tier=tier, score=round(score, 3), reasons=reasons)
