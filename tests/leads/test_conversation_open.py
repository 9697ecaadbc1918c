"""Opening a conversation from the chat socket: a returning widget costs one read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.limits import ChatLimits
from leads.models import Conversation, Visitor
from leads.services.conversations import conversation_open

pytestmark = pytest.mark.django_db


def _open(site, token=None):
    return conversation_open(
        site=site, visitor_token=token, limits=ChatLimits(), address="10.0.0.1"
    )


def test_a_returning_widget_resumes_its_conversation_in_one_query(
    demo_site, django_assert_num_queries
):
    conversation, token = _open(demo_site)
    with django_assert_num_queries(1):
        resumed, same = _open(demo_site, token)
    assert (resumed, same) == (conversation, token)


def test_the_visitor_is_marked_seen_at_most_once_an_hour(demo_site):
    conversation, token = _open(demo_site)
    long_ago = timezone.now() - timedelta(hours=2)
    Visitor.objects.filter(id=conversation.visitor_id).update(last_seen=long_ago)
    _open(demo_site, token)
    seen = Visitor.objects.get(id=conversation.visitor_id).last_seen
    assert seen > long_ago
    _open(demo_site, token)
    assert Visitor.objects.get(id=conversation.visitor_id).last_seen == seen


def test_a_token_of_another_site_starts_afresh(demo_site):
    other = type(demo_site).objects.create(key="other", name="Other")
    _, token = _open(other)
    conversation, new_token = _open(demo_site, token)
    assert new_token != token and conversation.site == demo_site
    assert Conversation.objects.count() == 2
