"""The dashboard's and the admin's HTTP defences: HTTPS, CSP, throttled logins, access logs."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def over_https(settings):  # type: ignore[no-untyped-def]
    """What DJANGO_HTTPS=true sets (salesbot/settings.py)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True


def test_plain_http_is_redirected_to_https(client, over_https):
    response = client.get("/dashboard/?q=x")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/dashboard/?q=x"


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_health_and_metrics_answer_plain_http_inside_the_network(client, over_https, path):
    assert client.get(path).status_code in (200, 403)


def test_https_answers_carry_hsts(client, over_https):
    response = client.get("/admin/login/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")


@pytest.mark.parametrize("path", ["/admin/login/", "/dashboard/"])
def test_pages_forbid_scripts_from_elsewhere(client, path):
    staff = get_user_model().objects.create_user("rep", is_staff=True)
    client.force_login(staff)
    policy = client.get(path, follow=True)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


def _login(client, password: str, address: str = "203.0.113.7"):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/login/",
        {"username": "rep", "password": password},
        REMOTE_ADDR=address,
    )


def test_staff_login_is_locked_after_five_failures_from_one_address(client):
    get_user_model().objects.create_user("rep", password="right-horse-battery", is_staff=True)
    for _ in range(4):
        assert _login(client, "wrong").status_code == 200  # the form again, with its error
    assert _login(client, "wrong").status_code == 429  # the fifth failure locks
    locked = _login(client, "right-horse-battery")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address is not locked out: an attacker cannot lock a rep out from elsewhere.
    assert _login(client, "right-horse-battery", address="198.51.100.2").status_code == 302


def test_a_successful_login_clears_the_failures(client):
    get_user_model().objects.create_user("rep", password="right-horse-battery", is_staff=True)
    for _ in range(4):
        _login(client, "wrong")
    assert _login(client, "right-horse-battery").status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, "wrong")
    assert _login(client, "right-horse-battery").status_code == 302


def test_the_access_log_leaves_query_strings_out(client, caplog):
    with caplog.at_level(logging.INFO, logger="salesbot.access"):
        client.get("/healthz?token=secret-visitor-token&email=ana@lumio.io")
    lines = [r.getMessage() for r in caplog.records if r.name == "salesbot.access"]
    assert lines and '"GET /healthz" 200' in lines[0]
    assert "secret" not in lines[0] and "ana@" not in lines[0] and "?" not in lines[0]
