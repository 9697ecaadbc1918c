"""Handing a qualified lead to people: a signed JSON webhook and an email, each sent once."""

from __future__ import annotations

import logging
import random
import smtplib
from datetime import timedelta
from functools import partial
from typing import NoReturn

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from leads import dispatch
from leads.errors import QueueUnavailable, Unavailable
from leads.models import Lead, Notification
from leads.services.broadcast import frame_send
from leads.services.summaries import conversation_summarise
from leads.services.webhooks import (
    DELIVERY_HEADER,
    EVENT_ERASED,
    EVENT_QUALIFIED,
    DeliveryError,
    delivery_id,
    lead_admin_url,
    webhook_deliver,
)
from llm import LLMError

logger = logging.getLogger(__name__)


class NotificationFailed(Unavailable):
    """An attempt to deliver a notification failed; `final` when no attempt is left."""

    def __init__(self, notification: Notification) -> None:
        super().__init__(
            f"{notification.channel} notification {notification.id} to {notification.target} "
            f"failed (attempt {notification.attempts}): {notification.last_error}"
        )
        self.notification = notification
        self.final = notification.status == Notification.Status.FAILED


def _email_recipient(lead: Lead) -> str:
    if lead.owner is not None and lead.owner.email:
        return lead.owner.email
    return lead.site.sales_email


def notification_enqueue(notification: Notification) -> None:
    """Queue the send task; a broker outage is logged and leaves the notification pending."""
    try:
        dispatch.enqueue(dispatch.NOTIFICATION_SEND, notification.id)
    except QueueUnavailable as exc:
        logger.error(
            "could not queue %s notification %s for lead %s (%s); it stays pending with no "
            "attempt: run notification_send_task(%s) once the broker is back",
            notification.channel,
            notification.id,
            notification.lead_id,
            exc,
            notification.id,
        )


@transaction.atomic
def lead_qualified_notify(*, lead: Lead) -> list[Notification]:
    """One notification per configured channel, each queued once after commit; and a `lead`
    frame to the visitor's widget, which tells the host page (`salesbot:lead-qualified`)."""
    frame = {"type": "lead", "status": Lead.Status.QUALIFIED.value}
    transaction.on_commit(partial(frame_send, conversation_id=lead.conversation_id, frame=frame))
    targets: list[tuple[str, str]] = []
    if lead.site.webhook_url:
        targets.append((Notification.Channel.WEBHOOK, lead.site.webhook_url))
    if recipient := _email_recipient(lead):
        targets.append((Notification.Channel.EMAIL, recipient))
    notifications = []
    for channel, target in targets:
        notification, created = Notification.objects.get_or_create(
            lead=lead, channel=channel, event=EVENT_QUALIFIED, defaults={"target": target}
        )
        # Only a new row is queued: a pending one already has its task (maybe waiting to
        # retry), and a second task would deliver it a second time.
        if created:
            transaction.on_commit(partial(notification_enqueue, notification))
        notifications.append(notification)
    return notifications


@transaction.atomic
def lead_erased_notify(*, lead: Lead) -> Notification | None:
    """Tell the Site's webhook that the lead was erased (`lead.erased`, with no personal data),
    so that a CRM it fed erases its copy; and give up the lead's hand-offs not yet sent."""
    Notification.objects.filter(lead=lead, status=Notification.Status.PENDING).exclude(
        event=EVENT_ERASED
    ).update(status=Notification.Status.CANCELLED, last_error="the lead was erased")
    if not lead.site.webhook_url:
        return None
    notification, created = Notification.objects.get_or_create(
        lead=lead,
        channel=Notification.Channel.WEBHOOK,
        event=EVENT_ERASED,
        defaults={"target": lead.site.webhook_url},
    )
    if created:
        transaction.on_commit(partial(notification_enqueue, notification))
    return notification


def notifications_requeue(*, older_than: timedelta) -> int:
    """Queue again the pending notifications whose task was lost: never tried and older than
    `older_than`, or not tried for longer than the longest back-off (their retry vanished with a
    broker). Past its deadline, `notification_send` fails one for good. How many."""
    now = timezone.now()
    lost_retry = now - timedelta(seconds=settings.NOTIFY_RETRY_BACKOFF_MAX) - older_than
    stale = Notification.objects.filter(status=Notification.Status.PENDING).filter(
        Q(attempted_at__isnull=True, created__lt=now - older_than) | Q(attempted_at__lt=lost_retry)
    )
    count = 0
    for notification in stale.iterator():
        notification_enqueue(notification)
        count += 1
    return count


def notification_retry_delay(*, attempts: int) -> int:
    """Seconds before the next attempt: exponential back-off from NOTIFY_RETRY_BACKOFF, capped."""
    ceiling = min(
        settings.NOTIFY_RETRY_BACKOFF_MAX, settings.NOTIFY_RETRY_BACKOFF * 2 ** (attempts - 1)
    )
    # Jitter spreads the retries of many leads over time; the floor of half the back-off keeps
    # a receiver that is down from being called again at once.
    return random.randint(ceiling // 2, ceiling)


def _line(label: str, value: object) -> str | None:
    return None if value in (None, "") else f"{label}: {value}"


def lead_summary_text(*, lead: Lead) -> str:
    """The plain-text email that tells a person about a qualified lead."""
    decision = None if lead.is_decision_maker is None else "yes" if lead.is_decision_maker else "no"
    budget = None
    if lead.budget_amount is not None:
        budget = f"{lead.budget_amount} {lead.budget_currency}".strip()
    timeline = None
    if lead.timeline_months is not None:
        timeline = "now" if lead.timeline_months == 0 else f"in {lead.timeline_months} month(s)"
    facts = [
        _line("Name", lead.name),
        _line("Email", lead.email),
        _line("Phone", lead.phone),
        _line("Company", lead.company),
        _line("Job title", lead.job_title),
        _line("Budget", budget),
        _line("Seats", lead.seats),
        _line("Wants to start", timeline),
        _line("Decision maker", decision),
        _line("Need", lead.need),
    ]
    lines = [
        f"A lead on {lead.site.name} is qualified (score {lead.score}).",
        "",
        *(fact for fact in facts if fact),
    ]
    if lead.conversation.summary:
        lines += ["", "The conversation:", lead.conversation.summary]
    quotes = lead.evidence.filter(current=True).order_by("field", "id")
    if quotes:
        lines += ["", "In their words:"]
        lines += [f'- {e.field}: "{e.quote}"' for e in quotes]
    lines += ["", f"Open the lead: {lead_admin_url(lead=lead)}"]
    if lead.email:
        lines += ["", "Reply to this email to write to the lead."]
    return "\n".join(lines) + "\n"


def _email_deliver(notification: Notification) -> None:
    lead = notification.lead
    who = str(lead)
    if lead.company:
        who += f" ({lead.company})"
    # Visitors choose these words: a line break in a subject is refused by Django.
    subject = " ".join(f"Qualified lead: {who}".split())[:200]
    message = EmailMessage(
        subject=subject,
        body=lead_summary_text(lead=lead),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.target],
        reply_to=[lead.email] if lead.email else None,
        headers={DELIVERY_HEADER: delivery_id(lead=lead, event=notification.event)},
    )
    try:
        sent = message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            f"could not send the email to {notification.target} through "
            f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT} (EMAIL_URL): {exc}"
        ) from exc
    if not sent:
        raise DeliveryError(f"the email backend sent nothing to {notification.target}")


def _attempt_claim(notification: Notification) -> bool:
    """Count this attempt, unless another run counted the same one first."""
    claimed = Notification.objects.filter(
        id=notification.id, status=Notification.Status.PENDING, attempts=notification.attempts
    ).update(attempts=F("attempts") + 1, attempted_at=timezone.now())
    if claimed:
        notification.attempts += 1
    return bool(claimed)


def notification_send(*, notification_id: int) -> Notification:
    """Deliver one notification unless it is done; `NotificationFailed` if this attempt fails."""
    notification = Notification.objects.select_related("lead__site", "lead__owner").get(
        id=notification_id
    )
    if notification.status != Notification.Status.PENDING:
        return notification
    if notification.lead.erased_at is not None and notification.event != EVENT_ERASED:
        # Erased before it went out: what it would carry is gone, and must not be sent.
        notification.status, notification.last_error = (
            Notification.Status.CANCELLED,
            "the lead was erased",
        )
        notification.save(update_fields=["status", "last_error"])
        return notification
    deadline = notification.created + timedelta(hours=settings.NOTIFY_DEADLINE_HOURS)
    if timezone.now() > deadline:
        notification.last_error = (
            f"not delivered within {settings.NOTIFY_DEADLINE_HOURS} hours (NOTIFY_DEADLINE_HOURS)"
            + (f"; last error: {notification.last_error}" if notification.last_error else "")
        )
        _fail(notification, final=True)
    if notification.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        # The last attempt's worker died mid-send (the task came back): nothing is left to try.
        notification.last_error = notification.last_error or "the worker stopped during it"
        _fail(notification, final=True)
    if not _attempt_claim(notification):
        # Two deliveries of the task raced for the same attempt; the other one sends it.
        notification.refresh_from_db()
        return notification
    if notification.event == EVENT_QUALIFIED:
        try:  # the conversation's summary, up to date, goes with the lead
            conversation_summarise(conversation_id=notification.lead.conversation_id)
            notification.lead.conversation.refresh_from_db(fields=["summary", "summary_through"])
        except LLMError as exc:
            logger.warning("lead %s goes without a fresh summary: %s", notification.lead_id, exc)
    try:
        if notification.channel == Notification.Channel.WEBHOOK:
            webhook_deliver(notification)
        elif notification.channel == Notification.Channel.EMAIL:
            _email_deliver(notification)
        else:
            raise DeliveryError(f"unknown channel {notification.channel!r}")
    except DeliveryError as exc:
        notification.last_error = str(exc)
        _fail(notification, final=notification.attempts >= settings.NOTIFY_MAX_ATTEMPTS)
    notification.status, notification.sent_at = Notification.Status.SENT, timezone.now()
    notification.last_error = ""
    notification.save(update_fields=["status", "sent_at", "last_error"])
    logger.info(
        "%s notification %s sent to %s (attempt %d)",
        notification.channel,
        notification.id,
        notification.target,
        notification.attempts,
    )
    return notification


def _fail(notification: Notification, *, final: bool) -> NoReturn:
    """Record a failed attempt and raise `NotificationFailed` (final: the notification failed)."""
    if final:
        notification.status = Notification.Status.FAILED
    notification.save(update_fields=["status", "last_error"])
    error = NotificationFailed(notification)
    if final:
        logger.error("%s; giving up", error)
    else:
        logger.warning("%s; will retry", error)
    raise error
