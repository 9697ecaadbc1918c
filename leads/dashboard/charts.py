"""Charts for the metrics page, drawn on the server as SVG: no charting script, no CDN.

Each function turns numbers into the geometry a template draws (dashboard/_chart.html); labels
reach the page through the template's escaping.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 28
MARKER_LABEL_W = 48  # room a marker's label takes beside its line


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str

    @property
    def end(self) -> float:
        return self.x + self.width


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    anchor: str = "start"  # the label's side of the line: "start" right of it, "end" left

    @property
    def dx(self) -> int:
        return 3 if self.anchor == "start" else -3


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    markers: list[Marker]
    title: str
    baseline: float
    label_x: float = 0  # where horizontal bars' labels end


def nice_max(value: float, *, whole: bool = False) -> float:
    """A round upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten, at least `value`
    (never 2.5 for `whole` numbers, whose ticks must be whole too)."""
    if value <= 0:
        return 1.0
    power: float = 10 ** math.floor(math.log10(value))
    steps = (1, 2, 5, 10) if whole and power < 10 else (1, 2, 2.5, 5, 10)
    return next(step * power for step in steps if step * power >= value)


def tick_count(top: float, *, whole: bool) -> int:
    """How many steps divide the axis up to `top`: four, or what keeps whole ticks whole."""
    if not whole:
        return 4
    return next((k for k in (4, 5, 2) if top % k == 0), 1)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def column_chart(
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    label_every: int = 1,
    markers: Sequence[tuple[float, str]] = (),
    value_format: str = "{:,.0f}",
    whole: bool = True,
) -> Chart:
    """Vertical bars, one per point, left to right; `markers` are vertical lines at fractional
    bar positions (0 = left edge of the first bar). `whole`: the values are counts."""
    top = nice_max(max((v for _, v in points), default=0), whole=whole)
    steps = tick_count(top, whole=whole)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    bars, x_ticks = [], []
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top
        bars.append(
            Bar(
                x=LEFT + i * slot + slot * 0.1,
                y=TOP + plot_h - h,
                width=slot * 0.8,
                height=h,
                label=label,
                value=value_format.format(value),
            )
        )
        if i % label_every == 0:
            x_ticks.append(Tick(LEFT + i * slot + slot / 2, label))
    y_ticks = [
        Tick(TOP + plot_h - plot_h * k / steps, _number(top * k / steps)) for k in range(steps + 1)
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        markers=_markers([(LEFT + slot * pos, text) for pos, text in markers]),
        title=title,
        baseline=TOP + plot_h,
    )


def _markers(lines: Sequence[tuple[float, str]]) -> list[Marker]:
    """Markers left to right; of two close ones, the first is labelled on its left, so that
    "median" and "p95" never print over each other."""
    ordered = sorted(lines)
    return [
        Marker(
            x,
            text,
            "end" if i + 1 < len(ordered) and ordered[i + 1][0] - x < MARKER_LABEL_W else "start",
        )
        for i, (x, text) in enumerate(ordered)
    ]


def bar_chart(
    rows: Sequence[tuple[str, float, str]], *, title: str, maximum: float | None = None
) -> Chart:
    """Horizontal bars, one row each, top to bottom: (label, value, value as shown)."""
    label_w, row_h = 170, 30
    height = TOP + row_h * max(len(rows), 1) + 8
    top = maximum or nice_max(max((v for _, v, _ in rows), default=0))
    plot_w = WIDTH - label_w - 70
    bars = [
        Bar(
            x=label_w,
            y=TOP + i * row_h + 4,
            width=plot_w * value / top if top else 0,
            height=row_h - 10,
            label=label,
            value=shown,
        )
        for i, (label, value, shown) in enumerate(rows)
    ]
    return Chart(
        width=WIDTH,
        height=height,
        bars=bars,
        y_ticks=[],
        x_ticks=[],
        markers=[],
        title=title,
        baseline=0,
        label_x=label_w - 8,
    )


def histogram(
    values: Sequence[float], *, bins: int, title: str, markers: Sequence[tuple[float, str]] = ()
) -> Chart:
    """A column chart of how `values` spread over `bins` equal ranges from 0, with markers
    (e.g. the median) drawn at their values."""
    top = nice_max(max(values, default=0))
    width = top / bins
    counts = [0] * bins
    for value in values:
        counts[min(int(value / width), bins - 1)] += 1
    points = [(_number(width * i), float(n)) for i, n in enumerate(counts)]
    return column_chart(
        points,
        title=title,
        label_every=max(1, bins // 5),
        markers=[(value / width, text) for value, text in markers],
    )
