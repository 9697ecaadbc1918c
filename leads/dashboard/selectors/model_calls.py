"""The metrics page's model calls: latency percentiles, error rate and failovers per role and
model, from the calls `llm.metrics` reported (`ModelCall`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from leads.dashboard.selectors.metrics import percentile
from leads.models import ModelCall, Site


@dataclass(frozen=True)
class CallStats:
    role: str
    model: str
    calls: int
    errors: int
    failovers: int  # calls this model answered after another model of its chain failed
    first_token_ms: tuple[float | None, float | None, float | None]  # p50, p95, p99
    total_ms: tuple[float | None, float | None, float | None]
    tokens_per_second: float | None
    cost: float

    @property
    def error_percent(self) -> float:
        return 100 * self.errors / self.calls if self.calls else 0.0

    @property
    def first_token_label(self) -> str:
        return _label(self.first_token_ms)

    @property
    def total_label(self) -> str:
        return _label(self.total_ms)


def _label(values: tuple[float | None, ...]) -> str:
    """ "120 / 340 / 510 ms", or "—" when nothing was measured."""
    if values[0] is None:
        return "—"
    return " / ".join("—" if v is None else f"{v:,.0f}" for v in values) + " ms"


def _percentiles(values: list[int]) -> tuple[float | None, float | None, float | None]:
    return percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)


def model_calls_compute(*, sites: QuerySet[Site], start: date) -> list[CallStats]:
    """Per role and model since `start`: the calls of `sites`' conversations, and those tied
    to no conversation (a call for no Site, e.g. `manage.py chat`) only with every site."""
    calls = ModelCall.objects.filter(created__date__gte=start)
    everything = not Site.objects.exclude(id__in=sites.values("id")).exists()
    ours = Q(conversation__site__in=sites)
    calls = calls.filter(ours | Q(conversation__isnull=True) if everything else ours)
    rows = calls.values_list(
        "role", "model", "outcome", "failovers", "first_token_ms", "total_ms",
        "tokens_per_second", "cost",
    )  # fmt: skip
    Row = tuple[str, list[str], int | None, int, float | None, float]
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for role, model, outcome, failovers, first, total, speed, cost in rows.iterator():
        grouped[(role, model)].append((outcome, failovers, first, total, speed, cost))
    stats = []
    for (role, model), group in sorted(grouped.items()):
        answered = [g for g in group if g[0] == ModelCall.Outcome.OK]
        speeds = [g[4] for g in answered if g[4]]
        stats.append(
            CallStats(
                role=role or "—",
                model=model,
                calls=len(group),
                errors=sum(1 for g in group if g[0] == ModelCall.Outcome.ERROR),
                failovers=sum(1 for g in answered if g[1]),
                first_token_ms=_percentiles([g[2] for g in answered if g[2] is not None]),
                total_ms=_percentiles([g[3] for g in answered]),
                tokens_per_second=sum(speeds) / len(speeds) if speeds else None,
                cost=sum(g[5] for g in group),
            )
        )
    return stats
