"""The widget's WebSocket protocol (v1, docs/protocol.md): client frames and error codes."""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from leads.errors import SalesbotError

PROTOCOL_VERSION = 1
CLOSE_FORBIDDEN = 4403  # unknown site key or an Origin the site does not allow
CLOSE_ERASED = 4410  # the conversation's data was erased: forget it, then start afresh
CLOSE_IDLE = 4408  # nothing said either way for the Site's idle time; reconnect when needed
CLOSE_TOO_MANY = 4429  # the address holds as many chat sockets as the Site allows
CLOSE_UNAVAILABLE = 1013  # "try again later" (RFC 6455): the server lost Redis for a moment


class ErrorCode(StrEnum):
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    NOT_READY = "not_ready"
    TOO_LONG = "too_long"
    UNAVAILABLE = "unavailable"
    REPLY_FAILED = "reply_failed"
    CONSENT_REQUIRED = "consent_required"
    REFUSED = "refused"
    RATE_LIMITED = "rate_limited"
    OVER_QUOTA = "over_quota"
    BUSY = "busy"


class ProtocolError(Exception):
    """A frame the server rejects; the connection stays open."""

    def __init__(
        self,
        code: ErrorCode,
        detail: str,
        frame_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.code, self.detail, self.frame_id = code, detail, frame_id
        self.retry_after = retry_after

    @classmethod
    def of(
        cls, error: SalesbotError, frame_id: str | None = None, prefix: str = ""
    ) -> ProtocolError:
        """The protocol's answer to a domain error: its kind's code, its message, and when a
        rate limit lets the frame through (`retry_after`, seconds)."""
        detail = error.detail if error.detail.endswith((".", "!", "?")) else f"{error.detail}."
        retry_after = getattr(error, "retry_after", None)
        return cls(ErrorCode(error.protocol_code), f"{prefix}{detail}", frame_id, retry_after)

    def frame(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "error", "code": self.code.value, "detail": self.detail}
        if self.frame_id is not None:
            out["id"] = self.frame_id
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (None: it can): a NUL, which PostgreSQL refuses, or
    a lone surrogate (JSON's "\\ud800"), which no database encodes."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None


class _Frame(BaseModel):
    # Unknown keys are ignored so that later protocol versions can add fields.
    model_config = ConfigDict(extra="ignore", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, str) and (problem := text_problem(value)) is not None:
            raise ValueError(problem)
        return value


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
    # For Sites with an identity secret: the host's id for its logged-in user, when the
    # signature expires (unix seconds), and the HMAC-SHA256 of email, user_id and expires.
    user_id: str = Field("", max_length=200)
    expires: int = Field(0, ge=0, lt=2**40)
    signature: str = Field("", max_length=128, pattern=r"^[0-9a-fA-F]*$")


class Ping(_Frame):
    type: Literal["ping"]


FRAME_TYPES: dict[str, type[_Frame]] = {
    "hello": Hello,
    "message": ChatMessageFrame,
    "consent": Consent,
    "identify": Identify,
    "ping": Ping,
}


def _shown(value: str, limit: int = 40) -> str:
    """A client's string as an error message may quote it: short, escaped."""
    return repr(value[:limit] + ("…" if len(value) > limit else ""))


def frame_decode(
    text_data: str | None, bytes_data: bytes | None, *, max_chars: int
) -> dict[str, Any]:
    """The JSON object of a client frame; `ProtocolError` (bad_frame, too_long) for anything
    else: binary, too large, not JSON, nested past the parser's depth, not an object, no type."""
    if text_data is None:
        raise ProtocolError(ErrorCode.BAD_FRAME, "Frames must be JSON text, not binary.")
    if len(text_data) > frame_max_bytes(max_chars):
        raise ProtocolError(ErrorCode.TOO_LONG, too_long_detail(max_chars))
    try:
        data = json.loads(text_data)
    except RecursionError:
        raise ProtocolError(ErrorCode.BAD_FRAME, "The frame is nested too deeply.") from None
    except ValueError:  # also a number too long to convert
        raise ProtocolError(ErrorCode.BAD_FRAME, "The frame is not valid JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError(
            ErrorCode.BAD_FRAME, 'A frame must be a JSON object with a string "type".'
        )
    return data


def frame_max_bytes(max_chars: int) -> int:
    """The largest frame a message of `max_chars` needs: JSON escapes a character in at most 6
    bytes, plus room for the other fields. The ASGI server is given the same cap (`uvicorn
    --ws-max-size`), so a larger frame is never read into memory."""
    return 6 * max_chars + 4096


def too_long_detail(max_chars: int) -> str:
    return f"Messages can be at most {max_chars} characters long; please shorten it."


def frame_validate(data: dict[str, Any]) -> _Frame:
    """The typed frame of a decoded one; `ProtocolError` naming the field and what is wrong."""
    kind: str = data["type"]
    frame_id = data.get("id")
    # Echoed in the error only when it is a short, storable string or an integer.
    echo = None
    if isinstance(frame_id, str | int) and not isinstance(frame_id, bool):
        echo = str(frame_id)
        if len(echo) > 64 or text_problem(echo) is not None:
            echo = None
    model = FRAME_TYPES.get(kind)
    if model is None:
        known = ", ".join(sorted(FRAME_TYPES))
        raise ProtocolError(
            ErrorCode.UNKNOWN_TYPE,
            f"Unknown frame type {_shown(kind)}; expected one of: {known}.",
            echo,
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or kind} {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"Invalid {kind!r} frame: {where}.", echo
        ) from None
