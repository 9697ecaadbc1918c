"""The domain's error taxonomy (leads/errors.py): each error's kind gives its HTTP status and its
chat protocol code, input errors are ValueErrors, the chat socket answers an error with its
kind's code and its message, and a broker that is down refuses a suggestion as unavailable."""

from __future__ import annotations

import pytest

import leads.errors
from leads.errors import (
    InvalidInput,
    Limited,
    QueueUnavailable,
    Refused,
    SalesbotError,
    TakeoverRefused,
    Unavailable,
)
from leads.models import Lead
from leads.policy import validate_fields
from leads.protocol import ErrorCode, ProtocolError
from leads.services.facts import lead_identify
from leads.services.messages import ReplyNotQueued
from leads.services.notifications import NotificationFailed
from leads.services.suggestions import suggestion_request
from leads.services.takeover import conversation_takeover
from salesbot.embedded_redis import EmbeddedRedis

# The status each kind of error answers with over HTTP; anything else is the server's fault.
KIND_STATUS: dict[type[SalesbotError], int] = {
    InvalidInput: 422,
    Refused: 409,
    Unavailable: 503,
    Limited: 429,
}


def _subclasses(cls: type[SalesbotError]) -> list[type[SalesbotError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


ERRORS = [SalesbotError, *_subclasses(SalesbotError)]


def _kind_status(cls: type[SalesbotError]) -> int:
    return next((status for kind, status in KIND_STATUS.items() if issubclass(cls, kind)), 500)


def test_the_walk_finds_every_error_of_the_taxonomy_and_the_services():
    declared = {
        obj
        for obj in vars(leads.errors).values()
        if isinstance(obj, type) and issubclass(obj, SalesbotError)
    }
    assert declared | {ReplyNotQueued, NotificationFailed} <= set(ERRORS)


@pytest.mark.parametrize("error", ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_answers_http_with_its_kinds_status(error: type[SalesbotError]):
    assert error.http_status in {409, 422, 429, 503, 500}
    assert error.http_status == _kind_status(error)


@pytest.mark.parametrize("error", ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_has_a_code_of_the_chat_protocol(error: type[SalesbotError]):
    assert error.protocol_code in {code.value for code in ErrorCode}


@pytest.mark.parametrize(
    "error",
    [cls for cls in ERRORS if issubclass(cls, InvalidInput)],
    ids=lambda cls: cls.__name__,
)
def test_every_input_error_is_a_value_error(error: type[SalesbotError]):
    assert issubclass(error, ValueError)


def test_code_that_catches_value_error_catches_an_input_error():
    with pytest.raises(ValueError, match="shoe_size"):
        validate_fields(["name", "shoe_size"])


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInput("the email is not valid"), ErrorCode.BAD_FRAME),
        (TakeoverRefused("a rep answers now"), ErrorCode.REFUSED),
        (QueueUnavailable("no task queue"), ErrorCode.UNAVAILABLE),
        (SalesbotError("something broke"), ErrorCode.UNAVAILABLE),
    ],
    ids=["invalid", "refused", "unavailable", "other"],
)
def test_the_protocol_answers_an_error_with_its_kinds_code_and_message(
    error: SalesbotError, code: ErrorCode
):
    frame = ProtocolError.of(error, "frame-1").frame()
    assert frame == {"type": "error", "code": code.value, "detail": f"{error}.", "id": "frame-1"}


@pytest.mark.django_db
def test_an_identify_error_reaches_the_page_without_a_doubled_period(lead: Lead):
    with pytest.raises(leads.errors.IdentityInvalid) as info:
        lead_identify(conversation=lead.conversation, email="jane(at)example.com")
    detail = ProtocolError.of(info.value, "frame-1", prefix="identify: ").detail
    assert not detail.endswith("..")


@pytest.mark.django_db
def test_a_suggestion_without_a_broker_is_refused_as_the_queue_being_unavailable(
    lead: Lead, rep, broker: EmbeddedRedis
):
    conversation_takeover(conversation=lead.conversation, by=rep)
    broker.stop()
    with pytest.raises(QueueUnavailable, match="Suggestions are unavailable just now") as info:
        suggestion_request(conversation=lead.conversation, request_id="r1")
    assert info.value.http_status == 503
    assert isinstance(info.value.__cause__, QueueUnavailable)
