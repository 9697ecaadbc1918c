"""The dashboard's live feed through channels' WebsocketCommunicator, over the real Redis channel
layer: who may connect, which sites' frames reach whom, watching a conversation, and following a
rep's team changes without reconnecting.

A frame that must not arrive is followed by one that must (a sentinel): frames of one channel
arrive in the order they were sent, so receiving the sentinel first shows that the other frame
was not delivered, without leaning on a wait.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from leads.models import Conversation, Site, Visitor
from leads.services.broadcast import frame_send, staff_conversation_send, staff_send
from leads.services.teams import site_team_changed
from salesbot.asgi import application
from tests.leads.factories import lead_create, staff_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]
PATH = "/ws/dashboard/"
ORIGIN = (b"origin", b"http://localhost:8000")
WAIT = 5  # seconds a frame that must arrive may take


@pytest.fixture
def loner(transactional_db):
    """A staff rep on no team yet."""
    return staff_user("lou")


def _session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return (b"cookie", f"{name}={client.cookies[name].value}".encode())


async def _connect(user=None, origin=ORIGIN) -> WebsocketCommunicator:
    headers = [origin]
    if user is not None:
        headers.append(await database_sync_to_async(_session_cookie)(user))
    communicator = WebsocketCommunicator(application, PATH, headers=headers)
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    return communicator


async def _ready(user) -> WebsocketCommunicator:
    communicator = await _connect(user)
    assert await communicator.receive_json_from(timeout=WAIT) == {"type": "ready"}
    return communicator


async def _lead_frame(site_id: int, lead_id: int) -> None:
    await sync_to_async(staff_send)(site_id=site_id, frame={"type": "lead", "lead": lead_id})


async def _next(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_json_from(timeout=WAIT)


async def _watch(communicator: WebsocketCommunicator, conversation) -> dict:
    await communicator.send_json_to({"type": "watch", "conversation": conversation})
    return await _next(communicator)


async def _conversation_of(site: Site) -> int:
    lead = await database_sync_to_async(lead_create)(site)
    return lead.conversation_id


async def _chat_frame(conversation_id: int, text: str) -> None:
    frame = {"type": "reply", "text": text}
    await sync_to_async(frame_send)(conversation_id=conversation_id, frame=frame)


async def _team_add(site: Site, user) -> None:
    @database_sync_to_async
    def change() -> None:
        before = set(site.team.values_list("id", flat=True))
        site.team.add(user)
        site_team_changed(site=site, before=before)

    await change()


async def _team_remove(site: Site, user) -> None:
    @database_sync_to_async
    def change() -> None:
        before = set(site.team.values_list("id", flat=True))
        site.team.remove(user)
        site_team_changed(site=site, before=before)

    await change()


# Who may connect


async def test_an_anonymous_connection_is_closed_with_4401(site):
    communicator = await _connect()
    assert await communicator.receive_output(timeout=WAIT) == {
        "type": "websocket.close",
        "code": 4401,
    }
    await communicator.disconnect()


async def test_a_logged_in_user_who_is_not_staff_is_closed_with_4401(site):
    customer = await database_sync_to_async(staff_user)("carl", site=site, staff=False)
    communicator = await _connect(customer)
    assert await communicator.receive_output(timeout=WAIT) == {
        "type": "websocket.close",
        "code": 4401,
    }
    await communicator.disconnect()


async def test_a_staff_rep_is_told_the_feed_is_ready(rep):
    communicator = await _connect(rep)
    assert await communicator.receive_json_from(timeout=WAIT) == {"type": "ready"}
    await communicator.disconnect()


async def test_a_staff_rep_from_another_origin_is_refused(rep):
    headers = [
        (b"origin", b"https://evil.example"),
        await database_sync_to_async(_session_cookie)(rep),
    ]
    communicator = WebsocketCommunicator(application, PATH, headers=headers)
    connected, _ = await communicator.connect(timeout=WAIT)
    assert not connected


async def test_a_refused_connection_ignores_the_frames_it_is_sent(site):
    communicator = await _connect()
    await communicator.receive_output(timeout=WAIT)  # the 4401 close
    await communicator.send_json_to({"type": "watch", "conversation": 1})
    assert await communicator.receive_nothing()
    await communicator.disconnect()


# Which sites' frames reach whom


async def test_a_lead_frame_of_the_reps_site_reaches_them(rep, site):
    communicator = await _ready(rep)
    await _lead_frame(site.id, 1)
    assert await _next(communicator) == {"type": "lead", "lead": 1}
    await communicator.disconnect()


async def test_a_lead_frame_of_another_teams_site_does_not_reach_the_rep(rep, site, other_site):
    communicator = await _ready(rep)
    await _lead_frame(other_site.id, 1)
    await _lead_frame(site.id, 2)  # the sentinel
    assert await _next(communicator) == {"type": "lead", "lead": 2}
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_a_superuser_receives_the_frames_of_every_site(site, other_site):
    boss = await database_sync_to_async(staff_user)("bea")
    boss.is_superuser = True
    await database_sync_to_async(boss.save)()
    communicator = await _ready(boss)
    await _lead_frame(site.id, 1)
    await _lead_frame(other_site.id, 2)
    received = [await _next(communicator), await _next(communicator)]
    assert received == [{"type": "lead", "lead": 1}, {"type": "lead", "lead": 2}]
    await communicator.disconnect()


# Watching a conversation


async def test_watching_a_conversation_of_the_reps_site_is_confirmed(rep, site):
    conversation = await _conversation_of(site)
    communicator = await _ready(rep)
    assert await _watch(communicator, conversation) == {
        "type": "watching",
        "conversation": conversation,
    }
    await communicator.disconnect()


async def test_a_watched_conversations_chat_frames_reach_the_rep(rep, site):
    conversation = await _conversation_of(site)
    communicator = await _ready(rep)
    await _watch(communicator, conversation)
    await _chat_frame(conversation, "Hello")
    assert await _next(communicator) == {"type": "reply", "text": "Hello"}
    await communicator.disconnect()


async def test_a_watched_conversations_staff_frames_reach_the_rep(rep, site):
    conversation = await _conversation_of(site)
    communicator = await _ready(rep)
    await _watch(communicator, conversation)
    frame = {"type": "suggestion", "text": "Offer a demo"}
    await sync_to_async(staff_conversation_send)(conversation_id=conversation, frame=frame)
    assert await _next(communicator) == frame
    await communicator.disconnect()


async def test_an_unwatched_conversations_frames_do_not_reach_the_rep(rep, site):
    conversation = await _conversation_of(site)
    communicator = await _ready(rep)
    await _chat_frame(conversation, "Hello")
    await _lead_frame(site.id, 1)
    assert await _next(communicator) == {"type": "lead", "lead": 1}
    await communicator.disconnect()


async def test_watching_a_conversation_of_another_teams_site_is_not_found(rep, other_site):
    conversation = await _conversation_of(other_site)
    communicator = await _ready(rep)
    error = await _watch(communicator, conversation)
    assert (error["type"], error.get("code")) == ("error", "not_found")
    await communicator.disconnect()


async def test_a_refused_watch_delivers_none_of_the_conversations_frames(rep, site, other_site):
    conversation = await _conversation_of(other_site)
    communicator = await _ready(rep)
    await _watch(communicator, conversation)
    await _chat_frame(conversation, "Hello")
    await sync_to_async(staff_conversation_send)(
        conversation_id=conversation, frame={"type": "suggestion", "text": "Offer a demo"}
    )
    await _lead_frame(site.id, 1)
    assert await _next(communicator) == {"type": "lead", "lead": 1}
    await communicator.disconnect()


@pytest.mark.parametrize(
    "spelling", [str, float, lambda id: [id], lambda id: None], ids=["str", "float", "list", "none"]
)
async def test_watching_a_conversation_by_a_non_integer_is_not_found(rep, site, spelling):
    conversation = await _conversation_of(site)
    communicator = await _ready(rep)
    error = await _watch(communicator, spelling(conversation))
    assert (error["type"], error.get("code")) == ("error", "not_found")
    await communicator.disconnect()


async def test_watching_a_conversation_by_a_boolean_is_not_found(rep, site):
    @database_sync_to_async
    def conversation_one() -> None:
        visitor = Visitor.objects.create(site=site, token="one")
        Conversation.objects.create(id=1, site=site, visitor=visitor)

    await conversation_one()
    communicator = await _ready(rep)
    error = await _watch(communicator, True)
    assert (error["type"], error.get("code")) == ("error", "not_found")
    await communicator.disconnect()


async def test_watching_an_unknown_conversation_is_not_found(rep, site):
    communicator = await _ready(rep)
    error = await _watch(communicator, 999_999)
    assert (error["type"], error.get("code")) == ("error", "not_found")
    await communicator.disconnect()


@pytest.mark.parametrize(
    "frame", [{"type": "dance"}, {"conversation": 1}, [1, 2]], ids=["other", "untyped", "list"]
)
async def test_a_frame_of_an_unknown_type_is_an_error(rep, frame):
    communicator = await _ready(rep)
    await communicator.send_json_to(frame)
    error = await _next(communicator)
    assert (error["type"], error.get("code")) == ("error", "unknown_type")
    await communicator.disconnect()


async def test_watching_a_second_conversation_stops_the_first_ones_frames(rep, site):
    first, second = await _conversation_of(site), await _conversation_of(site)
    communicator = await _ready(rep)
    await _watch(communicator, first)
    assert await _watch(communicator, second) == {"type": "watching", "conversation": second}
    await _chat_frame(first, "to the first")
    await _chat_frame(second, "to the second")
    assert await _next(communicator) == {"type": "reply", "text": "to the second"}
    await communicator.disconnect()


# Following team changes without reconnecting


async def test_site_team_changed_tells_a_rep_added_to_a_team(loner, site):
    communicator = await _ready(loner)
    await _team_add(site, loner)
    assert await _next(communicator) == {"type": "sites"}
    await communicator.disconnect()


async def test_a_rep_added_to_a_team_receives_its_sites_frames_from_then_on(loner, site):
    communicator = await _ready(loner)
    await _lead_frame(site.id, 1)  # not on the team yet: not delivered
    await _team_add(site, loner)
    assert await _next(communicator) == {"type": "sites"}
    await _lead_frame(site.id, 2)
    assert await _next(communicator) == {"type": "lead", "lead": 2}
    await communicator.disconnect()


async def test_a_rep_added_to_a_team_may_watch_its_conversations(loner, site):
    conversation = await _conversation_of(site)
    communicator = await _ready(loner)
    await _team_add(site, loner)
    await _next(communicator)  # sites
    assert await _watch(communicator, conversation) == {
        "type": "watching",
        "conversation": conversation,
    }
    await communicator.disconnect()


async def test_site_team_changed_tells_a_rep_removed_from_a_team(rep, site):
    communicator = await _ready(rep)
    await _team_remove(site, rep)
    assert await _next(communicator) == {"type": "sites"}
    await communicator.disconnect()


async def test_a_rep_removed_from_a_team_no_longer_receives_its_sites_frames(rep, site, other_site):
    await database_sync_to_async(other_site.team.add)(rep)
    communicator = await _ready(rep)
    await _team_remove(site, rep)
    assert await _next(communicator) == {"type": "sites"}
    await _lead_frame(site.id, 1)
    await _lead_frame(other_site.id, 2)  # still on this team: the sentinel
    assert await _next(communicator) == {"type": "lead", "lead": 2}
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_a_rep_removed_from_a_team_stops_receiving_a_watched_conversation(
    rep, site, other_site
):
    await database_sync_to_async(other_site.team.add)(rep)
    conversation = await _conversation_of(site)
    communicator = await _ready(rep)
    await _watch(communicator, conversation)
    await _team_remove(site, rep)
    assert await _next(communicator) == {"type": "sites"}
    await _chat_frame(conversation, "Hello")
    await sync_to_async(staff_conversation_send)(
        conversation_id=conversation, frame={"type": "suggestion", "text": "Offer a demo"}
    )
    await _lead_frame(other_site.id, 1)
    assert await _next(communicator) == {"type": "lead", "lead": 1}
    await communicator.disconnect()


async def test_a_watched_conversation_of_a_site_still_seen_survives_a_team_change(
    rep, site, other_site
):
    conversation = await _conversation_of(site)
    communicator = await _ready(rep)
    await _watch(communicator, conversation)
    await _team_add(other_site, rep)
    assert await _next(communicator) == {"type": "sites"}
    await _chat_frame(conversation, "Hello")
    assert await _next(communicator) == {"type": "reply", "text": "Hello"}
    await communicator.disconnect()


async def test_a_team_change_that_is_rolled_back_tells_no_one(rep, site):
    communicator = await _ready(rep)

    @database_sync_to_async
    def remove_then_roll_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            site.team.remove(rep)
            site_team_changed(site=site, before={rep.id})
            raise RuntimeError("rolled back")

    await remove_then_roll_back()
    await _lead_frame(site.id, 1)  # still on the team: the sentinel
    assert await _next(communicator) == {"type": "lead", "lead": 1}
    await communicator.disconnect()


async def test_a_team_change_tells_only_those_who_joined_or_left(rep, loner, site):
    stayer = await _ready(rep)
    joiner = await _ready(loner)
    await _team_add(site, loner)
    assert await _next(joiner) == {"type": "sites"}
    await _lead_frame(site.id, 1)
    assert await _next(stayer) == {"type": "lead", "lead": 1}
    await stayer.disconnect()
    await joiner.disconnect()


async def test_every_open_dashboard_of_the_rep_follows_a_team_change(loner, site):
    tabs = [await _ready(loner), await _ready(loner)]
    await _team_add(site, loner)
    assert [await _next(tab) for tab in tabs] == [{"type": "sites"}] * 2
    await _lead_frame(site.id, 1)
    assert [await _next(tab) for tab in tabs] == [{"type": "lead", "lead": 1}] * 2
    for tab in tabs:
        await tab.disconnect()


def _admin_client() -> Client:
    boss = staff_user("bea")
    boss.is_superuser = True
    boss.save()
    client = Client()
    client.force_login(boss)
    return client


def _form_data(form) -> dict[str, object]:
    """What a browser posts back for `form` untouched: no unchecked boxes, no empty values."""
    data = {name: form[name].value() for name in form.fields}
    return {name: value for name, value in data.items() if value is not None and value is not False}


def _page_data(page) -> dict[str, object]:
    """What a browser posts back for an admin page untouched: its form, and each inline's
    management form and rows (the Site page has its FAQ inline)."""
    data = _form_data(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data |= {
            f"{formset.prefix}-{name}": formset.management_form[name].value()
            for name in formset.management_form.fields
        }
        for row in formset.forms:  # its rows, and the empty ones as shown (a position of 0)
            data |= {row.add_prefix(name): value for name, value in _form_data(row).items()}
    return data


@database_sync_to_async
def _admin_site_team_set(site: Site, team: list[int]) -> int:
    """Save `site`'s change form in the admin with `team`, as a superuser; the status code."""
    client = _admin_client()
    url = reverse("admin:leads_site_change", args=[site.id])
    return client.post(url, _page_data(client.get(url)) | {"team": team}).status_code


async def test_adding_a_rep_to_a_team_in_the_admin_tells_their_open_dashboard(loner, site):
    communicator = await _ready(loner)
    assert await _admin_site_team_set(site, [loner.id]) == 302
    assert await _next(communicator) == {"type": "sites"}
    await _lead_frame(site.id, 1)
    assert await _next(communicator) == {"type": "lead", "lead": 1}
    await communicator.disconnect()


async def test_removing_a_rep_from_a_team_in_the_admin_tells_their_open_dashboard(
    rep, site, other_site
):
    await database_sync_to_async(other_site.team.add)(rep)
    communicator = await _ready(rep)
    assert await _admin_site_team_set(site, []) == 302
    assert await _next(communicator) == {"type": "sites"}
    await _lead_frame(site.id, 1)
    await _lead_frame(other_site.id, 2)  # still on this team: the sentinel
    assert await _next(communicator) == {"type": "lead", "lead": 2}
    await communicator.disconnect()


async def test_saving_a_site_in_the_admin_without_a_team_change_tells_no_one(rep, site):
    communicator = await _ready(rep)
    assert await _admin_site_team_set(site, [rep.id]) == 302
    await _lead_frame(site.id, 1)  # the sentinel
    assert await _next(communicator) == {"type": "lead", "lead": 1}
    await communicator.disconnect()


async def test_adding_a_site_in_the_admin_tells_the_open_dashboards_of_its_team(loner):
    communicator = await _ready(loner)

    @database_sync_to_async
    def admin_adds_site() -> int:
        client = _admin_client()
        page = client.get(reverse("admin:leads_site_add"))
        data = _page_data(page) | {"key": "new", "name": "New Co", "team": [loner.id]}
        return client.post(reverse("admin:leads_site_add"), data).status_code

    assert await admin_adds_site() == 302
    assert await _next(communicator) == {"type": "sites"}
    await communicator.disconnect()


# ---- a user's access changes in the admin ----------------------------------------------------


@database_sync_to_async
def _admin_user_save(user, **changes: object) -> int:
    """Save `user`'s change form in the admin with `changes`, as a superuser; the status code."""
    client = _admin_client()
    url = reverse("admin:auth_user_change", args=[user.id])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in (_form_data(form) | changes).items() if v is not False}
    joined = data.pop("date_joined")  # the admin shows it as a date and a time
    data |= {"date_joined_0": f"{joined:%Y-%m-%d}", "date_joined_1": f"{joined:%H:%M:%S}"}
    return client.post(url, data).status_code


async def _closed(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=WAIT)
    assert output["type"] == "websocket.close"
    return output["code"]


@pytest.mark.parametrize("field", ["is_active", "is_staff"])
async def test_a_rep_made_inactive_or_not_staff_in_the_admin_is_closed(rep, site, field):
    communicator = await _ready(rep)
    assert await _admin_user_save(rep, **{field: False}) == 302
    assert await _closed(communicator) == 4401


async def test_a_superuser_demoted_in_the_admin_keeps_only_their_teams_sites(site, other_site):
    boss = await database_sync_to_async(staff_user)("boss", site=site)
    boss.is_superuser = True
    await database_sync_to_async(boss.save)()
    communicator = await _ready(boss)
    assert await _admin_user_save(boss, is_superuser=False) == 302
    assert await _next(communicator) == {"type": "sites"}
    await _lead_frame(other_site.id, 1)
    await _lead_frame(site.id, 2)  # still on this team: the sentinel
    assert await _next(communicator) == {"type": "lead", "lead": 2}
    await communicator.disconnect()


async def test_saving_a_user_without_an_access_change_tells_no_one(rep, site):
    communicator = await _ready(rep)
    assert await _admin_user_save(rep, first_name="Rita") == 302
    await _lead_frame(site.id, 1)  # the sentinel
    assert await _next(communicator) == {"type": "lead", "lead": 1}
    await communicator.disconnect()


async def test_a_rep_deleted_in_the_admin_is_closed(rep, site):
    communicator = await _ready(rep)

    @database_sync_to_async
    def delete() -> int:
        url = reverse("admin:auth_user_delete", args=[rep.id])
        return _admin_client().post(url, {"post": "yes"}).status_code

    assert await delete() == 302
    assert await _closed(communicator) == 4401
