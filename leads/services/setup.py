"""First-run set-up for development: the demo site and a superuser."""

from __future__ import annotations

import contextlib
import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

import llm
from leads.models import FaqEntry, KnowledgeDocument, Site
from leads.services.knowledge import (
    document_ingest,
    faq_entry_save,
    passages_embed,
    summary_passage_sync,
)

DEMO_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]


@transaction.atomic
def demo_site_ensure() -> Site:
    """The `demo` site, allowed on localhost and 127.0.0.1 on any port (the demo host page)."""
    site, _ = Site.objects.get_or_create(
        key="demo",
        defaults={
            "name": "Acme Analytics",
            "description": "Acme Analytics sells dashboards for sales teams, "
            "priced per seat with a 14-day free trial.",
            "allowed_origins": DEMO_ORIGINS,
            "greeting": "Hi! I'm Acme's assistant. What brings you here today?",
            "privacy_notice_url": f"{settings.DEMO_HOST_URL}/privacy/",
        },
    )
    return site


DEMO_KNOWLEDGE = Path(__file__).resolve().parent.parent / "data" / "demo"


@transaction.atomic
def demo_knowledge_ensure(site: Site) -> None:
    """The demo Site's knowledge (leads/data/demo: an invented product, its prices and
    policies), so that `make run` shows grounded answers; what staff changed is left alone."""
    summary_passage_sync(site=site)
    if not KnowledgeDocument.objects.filter(site=site).exists():
        # The product guide in each language the demo's visitors write: all-MiniLM-L6-v2
        # matches a question with passages of its own language far better than across.
        for guide in sorted(DEMO_KNOWLEDGE.glob("acme-analytics*.md")):
            document_ingest(site=site, name=guide.name, data=guide.read_bytes())
    if not FaqEntry.objects.filter(site=site).exists():
        entries = json.loads((DEMO_KNOWLEDGE / "faq.json").read_text())
        for position, entry in enumerate(entries, start=1):
            faq_entry_save(
                site=site, question=entry["question"], answer=entry["answer"], position=position
            )
    # Embedded here, before the workers run: the demo answers from its first message.
    with contextlib.suppress(llm.LLMError):
        passages_embed(site_id=site.id)


@transaction.atomic
def dev_superuser_ensure(*, username: str, credentials_file: Path) -> tuple[str, str]:
    """A development superuser whose random password is kept in `credentials_file`."""
    user_model = get_user_model()
    if credentials_file.exists() and user_model.objects.filter(username=username).exists():
        stored_user, _, password = credentials_file.read_text().strip().partition(":")
        if stored_user == username:
            return username, password
    password = secrets.token_urlsafe(12)
    user, _ = user_model.objects.get_or_create(username=username)
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    credentials_file.write_text(f"{username}:{password}\n")
    credentials_file.chmod(0o600)
    return username, password
