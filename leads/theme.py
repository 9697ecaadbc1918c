"""The widget's look: the theme schema a Site's `theme` (JSON) must fit, and its colours.

The colours the widget paints with are worked out here, so that every text meets WCAG AA
contrast (4.5:1) whatever brand colour a company picks. Pure: the Site model validates with it,
and `leads.selectors.widget` builds the widget's configuration from it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from leads.errors import ThemeInvalid

DEFAULT_COLOR = "#1f5eff"
WHITE, BLACK = "#ffffff", "#000000"
INK = "#1f2933"  # the widget's body text
AA = 4.5


class WidgetTheme(BaseModel):
    """The look a Site gives its widget (Site.theme); every key is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    color: str = Field(DEFAULT_COLOR, description="Brand colour, #rrggbb.")
    title: str = Field("", max_length=60, description="Header title; the Site's name if empty.")
    position: Literal["right", "left"] = Field("right", description="Corner of the launcher.")
    avatar_url: str = Field("", max_length=500, description="http(s) URL of a square image.")

    @field_validator("color")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError("use a #rrggbb colour, e.g. #1f5eff")
        return value.lower()

    @field_validator("avatar_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"https?://[^\s/]+", value):
            raise ValueError("use an http(s) URL")
        return value


def theme_parse(raw: object) -> WidgetTheme:
    """The validated theme; `ThemeInvalid` says what to fix."""
    try:
        return WidgetTheme.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'theme'}: {e['msg']}" for e in exc.errors()
        )
        raise ThemeInvalid(problems) from None


def _luminance(color: str) -> float:
    """WCAG 2 relative luminance of #rrggbb."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def palette(brand: str) -> dict[str, str]:
    """The brand colour, the text drawn on it, and the brand colour as text on white.

    White or black on the brand, whichever contrasts more (one of them always reaches 4.5:1);
    a light brand colour is too faint as text on white, so links and buttons fall back to ink.
    """
    on_brand = WHITE if contrast(brand, WHITE) >= contrast(brand, BLACK) else BLACK
    return {
        "brand": brand,
        "on_brand": on_brand,
        "brand_text": brand if contrast(brand, WHITE) >= AA else INK,
    }
