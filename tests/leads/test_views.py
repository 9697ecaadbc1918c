from __future__ import annotations

import pytest
from django.core.management import call_command

from leads.models import Site


@pytest.mark.django_db
def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_the_widget_script_is_served(client):
    response = client.get("/static/salesbot/widget.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"/ws/chat/" in body


@pytest.mark.django_db
def test_ensure_demo_is_idempotent_and_keeps_the_password(tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("ensure_demo")
    first = capsys.readouterr().out
    call_command("ensure_demo")
    second = capsys.readouterr().out
    assert Site.objects.filter(key="demo").count() == 1
    assert "admin login: admin / " in first and first == second
    # The demo's knowledge, once: an invented product's prices and policies to answer from.
    site = Site.objects.get(key="demo")
    # The product guide in English, Spanish, German and French.
    assert site.documents.count() == 4 and site.faq.count() == 12
    assert site.passages.filter(text__contains="EUR 29 per seat").count() == 1
