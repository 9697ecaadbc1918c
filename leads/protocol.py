"""The widget's WebSocket protocol (v1, docs/protocol.md): client frames and error codes."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leads.errors import SalesbotError

PROTOCOL_VERSION = 1
CLOSE_FORBIDDEN = 4403  # unknown site key or an Origin the site does not allow


class ErrorCode(StrEnum):
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    NOT_READY = "not_ready"
    TOO_LONG = "too_long"
    UNAVAILABLE = "unavailable"
    REPLY_FAILED = "reply_failed"
    CONSENT_REQUIRED = "consent_required"
    REFUSED = "refused"


class ProtocolError(Exception):
    """A frame the server rejects; the connection stays open."""

    def __init__(self, code: ErrorCode, detail: str, frame_id: str | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.frame_id = code, detail, frame_id

    @classmethod
    def of(
        cls, error: SalesbotError, frame_id: str | None = None, prefix: str = ""
    ) -> ProtocolError:
        """The protocol's answer to a domain error: its kind's code, its message."""
        detail = error.detail if error.detail.endswith((".", "!", "?")) else f"{error.detail}."
        return cls(ErrorCode(error.protocol_code), f"{prefix}{detail}", frame_id)

    def frame(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "error", "code": self.code.value, "detail": self.detail}
        if self.frame_id is not None:
            out["id"] = self.frame_id
        return out


class _Frame(BaseModel):
    # Unknown keys are ignored so that later protocol versions can add fields.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Hello(_Frame):
    type: Literal["hello"]
    visitor: str | None = Field(None, max_length=64)


class ChatMessageFrame(_Frame):
    type: Literal["message"]
    id: uuid.UUID
    text: str


class Consent(_Frame):
    """The visitor accepted the Site's privacy notice (the URL they were shown)."""

    type: Literal["consent"]
    id: uuid.UUID
    notice: str = Field("", max_length=200)


class Identify(_Frame):
    """The host page says who its logged-in visitor is (`salesbot.identify()`)."""

    type: Literal["identify"]
    id: uuid.UUID
    email: str = Field("", max_length=254)
    name: str = Field("", max_length=200)
    # HMAC-SHA256 of the email by the host's server, for Sites with an identity secret.
    signature: str = Field("", max_length=128)


class Ping(_Frame):
    type: Literal["ping"]


FRAME_TYPES: dict[str, type[_Frame]] = {
    "hello": Hello,
    "message": ChatMessageFrame,
    "consent": Consent,
    "identify": Identify,
    "ping": Ping,
}
