"""Webhooks reach public https addresses only (leads/outbound.py): checked at send time on every
address the name resolves to, and sent to the address that was checked."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.exceptions import ValidationError

from leads.models import Conversation, Lead, Notification, Visitor
from leads.outbound import OutboundRefused, networks_parse, target_resolve, url_check
from leads.services.notifications import NotificationFailed, notification_send

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://100.64.0.1/hook", "reserved"),  # carrier-grade NAT
        ("https://0.0.0.0/hook", "private"),
    ],
)
def test_an_address_that_is_not_public_is_refused(url, kind):
    with pytest.raises(OutboundRefused, match=f"a {kind} address"):
        target_resolve(url, allow_http=False, allowed=[])


def test_a_network_of_ones_own_may_be_allowed():
    allowed = networks_parse(["10.0.0.0/8"])
    target = target_resolve("https://10.1.2.3:9000/hook", allow_http=False, allowed=allowed)
    assert (target.address, target.port, target.host) == ("10.1.2.3", 9000, "10.1.2.3")
    assert ipaddress.ip_address("10.1.2.3") in allowed[0]


def test_a_public_address_passes():
    target = target_resolve("https://93.184.215.14/hook", allow_http=False, allowed=[])
    assert target.address == "93.184.215.14" and target.scheme == "https"


@pytest.mark.parametrize(
    ("url", "allow_http", "message"),
    [
        ("http://crm.example.com/hook", False, "plain http: use https"),
        ("ftp://crm.example.com/hook", True, r"not an http\(s\) URL"),
        ("https://user:pw@crm.example.com/hook", False, "carries a user and password"),
    ],
)
def test_a_url_of_the_wrong_form_is_refused(url, allow_http, message):
    with pytest.raises(OutboundRefused, match=message):
        url_check(url, allow_http=allow_http)


def test_a_bad_allowed_network_names_the_setting():
    with pytest.raises(OutboundRefused, match="WEBHOOK_ALLOWED_NETWORKS"):
        networks_parse(["10.0.0.0/33"])


def test_the_admin_refuses_a_plain_http_webhook_in_production(site, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    site.webhook_url, site.webhook_secret = "http://crm.example.com/hook", "s"
    with pytest.raises(ValidationError, match="use https"):
        site.full_clean()


def _webhook_to(site, url):  # type: ignore[no-untyped-def]
    visitor = Visitor.objects.create(site=site, token="t")
    conversation = Conversation.objects.create(site=site, visitor=visitor)
    lead = Lead.objects.create(site=site, visitor=visitor, conversation=conversation)
    site.webhook_url, site.webhook_secret = url, "s"
    site.save()
    return Notification.objects.create(lead=lead, channel="webhook", target=url)


def test_a_webhook_to_the_machine_itself_is_not_sent(site, receiver, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []  # the receiver's loopback is not allowed here
    notification = _webhook_to(site, receiver.url)
    with pytest.raises(NotificationFailed):
        notification_send(notification_id=notification.id)
    notification.refresh_from_db()
    assert "resolves to 127.0.0.1, a loopback address" in notification.last_error
    assert receiver.requests == []


def test_the_request_goes_to_the_checked_address_under_the_urls_name(site, receiver):
    url = receiver.url.replace("127.0.0.1", "localhost")
    notification = _webhook_to(site, url)
    assert notification_send(notification_id=notification.id).status == "sent"
    [request] = receiver.requests
    assert request.headers["Host"] == url.split("/")[2]
