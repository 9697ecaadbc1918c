"""The chat's abuse limits: what one Site allows a visitor, an address and itself.

A Site's `limits` (JSON) overrides any of these; the defaults hold for the rest. Pure: the Site
model validates with it, the consumer and the services enforce it (leads/services/throttle.py),
docs/security.md lists every limit, its default and the protocol error that answers it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leads.errors import LimitsInvalid


class ChatLimits(BaseModel):
    """What one Site's widget allows; every key is optional in `Site.limits`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_chars: int = Field(
        2000, ge=1, description="The longest visitor message (CHAT_MAX_MESSAGE_CHARS caps it)."
    )
    messages_per_minute: int = Field(
        12, ge=1, le=10_000, description="Messages one visitor may send in a minute."
    )
    messages_per_minute_per_ip: int = Field(
        60, ge=1, le=100_000, description="Messages from one network address in a minute."
    )
    sockets_per_ip: int = Field(
        50, ge=1, le=100_000, description="Chat sockets one address may hold open at once."
    )
    conversations_per_hour_per_ip: int = Field(
        60, ge=1, le=100_000, description="New conversations one address may start in an hour."
    )
    tokens_per_day: int = Field(
        2_000_000,
        ge=0,
        description="Model tokens (prompt and reply) the Site's conversations may use in a day; "
        "0: no limit.",
    )
    idle_seconds: int = Field(
        1800,
        ge=1,
        le=24 * 3600,
        description="A socket with no message either way for this long is closed (the widget "
        "reconnects when the visitor comes back).",
    )


def limits_parse(raw: object) -> ChatLimits:
    """The validated limits; `LimitsInvalid` names the key to fix."""
    try:
        return ChatLimits.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'limits'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise LimitsInvalid(problems) from None
