"""The smart router: each call goes to the tier of models its message's complexity asks for.

`RouterLLM` is itself a `BaseLLM`, so the reply path and `manage.py chat` get it through
`get_llm` unchanged. For every call it scores the message being answered and the conversation
before it (`llm.routing`), picks the simple, medium or complex tier by the configured
thresholds (no higher than a caller's `max_tier`: a Site over its budget), and streams that
tier's model (a model, a failover chain, or the ensemble). The decision, with
its score and reasons, is logged and returned on the `Completion` (`route`), which the reply
path stores and the dashboard's transcript shows.

The prompt is built before the decision, so it is built for the medium tier's prompt family;
each tier's model still applies its own chat template and context window.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from llm.base import BaseLLM, constrained
from llm.metrics import current
from llm.routing import TIERS, RouterSettings, route
from llm.types import (
    ChatMessage,
    Completion,
    Finish,
    JsonSchema,
    Options,
    Route,
    least_capability,
)

logger = logging.getLogger(__name__)


class RouterLLM(BaseLLM):
    """A model per tier of complexity; each call answered by its message's tier."""

    backend = "router"
    supports_schema = True  # passed on to the tiers' models that can use it

    def __init__(self, tiers: Mapping[str, BaseLLM], settings: RouterSettings) -> None:
        missing = [tier for tier in TIERS if tier not in tiers]
        if missing:
            raise ValueError(f"a router needs a model for each tier; none for {missing}")
        default = tiers["medium"]
        super().__init__(
            name="router(" + ", ".join(f"{t}: {tiers[t].name}" for t in TIERS) + ")",
            defaults=default.defaults,
            context_window=default.context_window,
            template_family=default.template_family,
            capability=least_capability(m.capability for m in tiers.values()),
        )
        self.tiers = dict(tiers)
        self.settings = settings

    def decide(self, messages: Sequence[ChatMessage]) -> Route:
        """The tier that answers `messages`, with the score and the reasons; no higher than
        the caller's `max_tier` (`call_context`: a Site whose budget is spent)."""
        decision = route(messages, self.settings)
        cap = current().get("max_tier")
        if cap in TIERS and TIERS.index(decision.tier) > TIERS.index(cap):
            why = f"{decision.tier} capped to {cap}: {current().get('cap_reason') or 'asked'}"
            decision = replace(decision, tier=cap, reasons=(*decision.reasons, why))
        return decision

    def _stream(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None
    ) -> Iterator[str | Completion]:
        decision = self.decide(messages)
        model = self.tiers[decision.tier]
        logger.info(
            "routed to %s (%s): complexity %.2f (%s)",
            decision.tier, model.name, decision.score, "; ".join(decision.reasons) or "no signal",
        )  # fmt: skip
        chat, constraint = constrained(model, messages, schema)
        for item in model._stream(chat, opts, constraint):
            yield replace(item, route=decision) if isinstance(item, Completion) else item

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        raise NotImplementedError("a router streams through its tiers' own _stream")

    def _distinct(self) -> list[BaseLLM]:
        return list({id(model): model for model in self.tiers.values()}.values())

    def ready(self) -> BaseLLM:
        """Every tier's model loaded (the first of each chain that loads); the medium tier's
        is the one that decides the options."""
        for model in self._distinct():
            model.ready()
        return self.tiers["medium"].ready()

    def options(self, **overrides: Any) -> Options:
        return self.tiers["medium"].options(**overrides)

    def count_tokens(self, text: str) -> int:
        return self.tiers["medium"].count_tokens(text)

    def warm(self, messages: Sequence[ChatMessage], *, slot: int | None = None) -> bool:
        warmed = [model.warm(messages, slot=slot) for model in self._distinct()]
        return any(warmed)
