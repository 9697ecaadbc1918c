"""Model calls on record (leads/services/model_calls.py), on the metrics page and at /metrics."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leads.models import ModelCall
from llm import GenerationFailed, ServerUnreachable
from llm.backends.fake import FakeLLM
from tests.leads.conftest import staff_user
from tests.leads.factories import reply_to_new_conversation
from tests.llm.test_failover import Scripted, chain

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("calls_kept")]


def test_a_reply_is_on_record_as_a_call_of_its_conversation(demo_site):
    reply = reply_to_new_conversation(
        demo_site,
        chain(Scripted("gpu", ServerUnreachable("down")), Scripted("cpu"), capability="compose"),
    )
    call = ModelCall.objects.get(conversation=reply.conversation)
    assert (call.role, call.model, call.backend, call.outcome) == ("reply", "cpu", "failover", "ok")
    assert call.failovers == ["gpu"] and call.completion_tokens == 2 and call.total_ms >= 0


def test_the_metrics_page_gives_each_models_percentiles_errors_and_failovers(client, demo_site):
    reply_to_new_conversation(
        demo_site,
        chain(Scripted("gpu", ServerUnreachable("down")), Scripted("cpu"), capability="compose"),
    )
    reply_to_new_conversation(demo_site, FakeLLM(capability="compose", name="cpu"))
    with pytest.raises(GenerationFailed):
        reply_to_new_conversation(
            demo_site,
            FakeLLM(capability="compose", name="cpu", replies=[RuntimeError("out of memory")]),
        )
    client.force_login(staff_user("rita", site=demo_site))
    html = client.get(reverse("dashboard:metrics")).content.decode()
    row = html[html.index('<tr data-model="cpu" data-role="reply">') :]
    row = row[: row.index("</tr>")]
    cells = [c.split(">", 1)[1] for c in row.split("<td")[1:]]
    assert cells[:5] == ["reply</td>", "cpu</td>", "3</td>", "1 (33.3%)</td>", "1</td>"]
    assert cells[6].endswith(" ms</td>") and cells[6].count(" / ") == 2


@pytest.mark.parametrize(
    ("remote", "forwarded", "allowed", "status"),
    [
        ("127.0.0.1", None, None, 200),
        ("10.1.2.3", None, None, 403),
        ("127.0.0.1", "203.0.113.9", None, 403),  # through a proxy, from outside
        ("127.0.0.1", "127.0.0.1, 203.0.113.9", None, 403),  # a forged first hop
        ("10.1.2.3", None, ["10.0.0.0/8"], 200),
    ],
)
def test_metrics_are_served_only_to_the_allowed_addresses(
    client, settings, remote, forwarded, allowed, status
):
    if allowed is not None:
        settings.METRICS_ALLOWED_IPS = allowed
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"].startswith("text/plain")
        assert b"salesbot_llm_requests_total" in response.content
    else:
        assert response.json()["code"] == "metrics_forbidden"
        assert "METRICS_ALLOWED_IPS" in response.json()["detail"]
