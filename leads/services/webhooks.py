"""A Site's webhook: the signed JSON bodies of its events (`lead.qualified`, `lead.erased`) and
their delivery. The notifications service decides when each is sent and retries it."""

from __future__ import annotations

import json
import time
from datetime import datetime
from importlib import metadata
from typing import Any

import httpx
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from leads.errors import Unavailable
from leads.models import Lead, Notification
from leads.outbound import OutboundRefused, networks_parse, target_resolve
from leads.selectors.leads import lead_facts_json
from leads.signing import webhook_signature

EVENT_QUALIFIED = "lead.qualified"
EVENT_ERASED = "lead.erased"
SIGNATURE_HEADER = "X-Salesbot-Signature"
EVENT_HEADER = "X-Salesbot-Event"
DELIVERY_HEADER = "X-Salesbot-Delivery"

try:
    USER_AGENT = f"salesbot/{metadata.version('salesbot')}"
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    USER_AGENT = "salesbot/dev"


class DeliveryError(Unavailable):
    """The channel refused or could not be reached; the message says what to fix."""


def delivery_id(*, lead: Lead, event: str = EVENT_QUALIFIED) -> str:
    """The key a receiver deduplicates on: the same for every attempt of one event."""
    return f"lead-{lead.id}-{event.removeprefix('lead.')}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def lead_admin_url(*, lead: Lead) -> str:
    """Where staff open the lead: its admin page, else its conversation's."""
    try:
        path = reverse("admin:leads_lead_change", args=[lead.id])
    except NoReverseMatch:
        # Lead is not (yet) registered in the admin; the conversation shows what was said.
        path = reverse("admin:leads_conversation_change", args=[lead.conversation_id])
    return str(settings.SALESBOT_BASE_URL).rstrip("/") + path


def lead_payload(*, lead: Lead) -> dict[str, Any]:
    """The JSON body of the lead.qualified webhook."""
    evidence = [
        {"field": e.field, "value": e.value, "quote": e.quote, "extractor": e.extractor}
        for e in lead.evidence.filter(current=True).order_by("field", "id")
    ]
    owner = lead.owner
    return {
        "id": delivery_id(lead=lead),
        "event": EVENT_QUALIFIED,
        # Stable across retries, unlike the moment of sending.
        "occurred_at": _iso(lead.qualified_at or lead.updated),
        "site": {"key": lead.site.key, "name": lead.site.name},
        "lead": {
            "id": lead.id,
            **lead_facts_json(lead),
            "score": lead.score,
            "status": lead.status,
            "qualified_at": _iso(lead.qualified_at),
            "conversation_id": lead.conversation_id,
            "owner": {"username": owner.get_username(), "email": owner.email} if owner else None,
            "url": lead_admin_url(lead=lead),
            "evidence": evidence,
            # A few lines of the conversation (the `summary` role's); null without one.
            "summary": lead.conversation.summary or None,
        },
    }


def erased_payload(*, lead: Lead) -> dict[str, Any]:
    """The JSON body of the lead.erased webhook: which lead to erase downstream, and nothing
    about the person (the receiver matches on the ids it was given with lead.qualified)."""
    return {
        "id": delivery_id(lead=lead, event=EVENT_ERASED),
        "event": EVENT_ERASED,
        "occurred_at": _iso(lead.erased_at),
        "site": {"key": lead.site.key, "name": lead.site.name},
        "lead": {
            "id": lead.id,
            "conversation_id": lead.conversation_id,
            "erased_at": _iso(lead.erased_at),
        },
    }


def webhook_deliver(notification: Notification) -> None:
    """POST the notification's event, signed; `DeliveryError` saying what went wrong."""
    lead, url = notification.lead, notification.target
    secret = lead.site.webhook_secret
    if not secret:
        raise DeliveryError(
            f"site {lead.site.key!r} has a webhook URL but no webhook secret: set one in the "
            "admin so that the receiver can verify the signature"
        )
    payload = (
        erased_payload(lead=lead) if notification.event == EVENT_ERASED else lead_payload(lead=lead)
    )
    try:
        target = target_resolve(
            url,
            allow_http=settings.WEBHOOK_ALLOW_HTTP,
            allowed=networks_parse(settings.WEBHOOK_ALLOWED_NETWORKS),
        )
    except OutboundRefused as exc:
        raise DeliveryError(str(exc)) from exc
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    signature = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: notification.event,
        DELIVERY_HEADER: delivery_id(lead=lead, event=notification.event),
        SIGNATURE_HEADER: f"t={timestamp},v1={signature}",
    }
    timeout = settings.NOTIFY_WEBHOOK_TIMEOUT
    # To the address that was checked, not to whatever the name resolves to by now; the Host
    # header and the TLS name (whose certificate is verified) stay the URL's.
    pinned = httpx.URL(url).copy_with(host=target.address)
    headers["Host"] = httpx.URL(url).netloc.decode("ascii")
    try:
        with httpx.Client(timeout=timeout) as client:
            request = client.build_request(
                "POST",
                pinned,
                content=body,
                headers=headers,
                extensions={"sni_hostname": target.host},
            )
            response = client.send(request)
    except httpx.ConnectError as exc:
        raise DeliveryError(f"could not connect to {url}: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise DeliveryError(
            f"no answer from {url} within {timeout} s (NOTIFY_WEBHOOK_TIMEOUT)"
        ) from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise DeliveryError(f"the request to {url} failed: {exc}") from exc
    if response.is_redirect:
        # Redirects are not followed: the signature covers one URL, and a POST may become a GET.
        raise DeliveryError(
            f"HTTP {response.status_code} from {url} redirecting to "
            f"{response.headers.get('location', '?')}: set the webhook URL to the final address"
        )
    if not response.is_success:
        # Not the body: what a receiver answers is not ours to keep (it may echo the lead).
        raise DeliveryError(f"HTTP {response.status_code} {response.reason_phrase} from {url}")
