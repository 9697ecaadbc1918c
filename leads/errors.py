"""One error taxonomy for the domain: every refusal has a kind, a code and a sentence a person
can act on, and one mapping turns it into an HTTP status or a chat protocol error code.

Services raise the most specific class; interfaces catch `SalesbotError` (or a kind) and answer
with `error.http_status` (views) or `error.protocol_code` (the chat socket), never by matching
message text. No Django here: the pure cores raise these too.
"""

from __future__ import annotations

from typing import ClassVar


class SalesbotError(Exception):
    """Base of every error the domain raises on purpose; `str(error)` is for people."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500
    # The chat protocol's error code (docs/protocol.md) when a visitor's frame meets it.
    protocol_code: ClassVar[str] = "unavailable"

    @property
    def detail(self) -> str:
        return str(self)


class InvalidInput(SalesbotError, ValueError):
    """What was given cannot be used as it is; the message names the part to fix."""

    code = "invalid"
    http_status = 422
    protocol_code = "bad_frame"


class Refused(SalesbotError):
    """A valid request that cannot be done in the current state (a conversation taken, a lead
    erased); the message says why and what to do instead."""

    code = "refused"
    http_status = 409
    protocol_code = "refused"


class Unavailable(SalesbotError):
    """A part salesbot needs is not there just now (the task queue, a receiver): try again."""

    code = "unavailable"
    http_status = 503
    protocol_code = "unavailable"


class Limited(SalesbotError):
    """More than a limit allows (leads/limits.py): a rate, a quota; the message says when it
    lets the request through again."""

    code = "limited"
    http_status = 429
    protocol_code = "rate_limited"


# Kinds of input, each with its own code for logs and API answers.


class ThemeInvalid(InvalidInput):
    """A Site's widget theme does not fit the schema; the message names the key to fix."""

    code = "invalid_theme"


class LimitsInvalid(InvalidInput):
    """A Site's chat limits do not fit the schema; the message names the key to fix."""

    code = "invalid_limits"


class FieldsInvalid(InvalidInput):
    """A Site's qualification fields name a topic salesbot does not know."""

    code = "invalid_fields"


class ScoringConfigInvalid(InvalidInput):
    """A Site's score weights cannot be used."""

    code = "invalid_score_weights"


class StatusInvalid(InvalidInput):
    """A lead status that does not exist."""

    code = "invalid_status"


class FactsInvalid(InvalidInput):
    """Lead facts that do not exist."""

    code = "invalid_facts"


class IdentityInvalid(InvalidInput):
    """What the host page said about its visitor cannot be stored; the message says why."""

    code = "invalid_identity"


class DatasetInvalid(InvalidInput):
    """A line of an evaluation file is not a conversation in the expected format."""

    code = "invalid_dataset"


class DocumentInvalid(InvalidInput):
    """A knowledge document salesbot cannot read (kind, encoding, size, no text layer)."""

    code = "invalid_document"


class TextInvalid(InvalidInput):
    """A rep's note or message that is empty or too long."""

    code = "invalid_text"


class LeadActionRefused(Refused):
    """A change staff asked for that cannot be made to this lead."""

    code = "lead_action_refused"


class ConversationErased(Refused):
    """The conversation's personal data was erased: it takes nothing more."""

    code = "erased"


class IdentityChanged(Refused):
    """The host page identifies another person than the one this conversation belongs to."""

    code = "identity_changed"


class TakeoverRefused(Refused):
    """The rep cannot do this in the conversation now."""

    code = "takeover_refused"


class RateLimited(Limited):
    """Too many messages or conversations too fast; `retry_after` says when to try again."""

    code = "rate_limited"
    protocol_code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class QuotaExceeded(Limited):
    """The Site's model budget for the day is spent: the assistant takes no more messages."""

    code = "over_quota"
    protocol_code = "over_quota"


class ConversationBusy(Refused):
    """The assistant is still answering the conversation's previous message."""

    code = "busy"
    protocol_code = "busy"


class QueueUnavailable(Unavailable):
    """The task queue (the broker) cannot take work just now."""

    code = "queue_unavailable"
