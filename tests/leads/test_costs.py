"""What the models cost (llm.config.Price, leads/selectors/costs.py): per call, per model and
month, per conversation and qualified lead; the Sites' budgets and what happens once spent."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from leads.models import Message, ModelCall
from leads.selectors.costs import budget_states, budgets_spent
from leads.services.conversations import conversation_resume_or_start
from llm import ChatMessage, Usage
from llm.backends.fake import FakeLLM
from llm.config import Price
from llm.router import RouterLLM
from llm.routing import RouterSettings
from tests.leads.conftest import staff_user
from tests.leads.factories import reply_to_new_conversation

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The knowledge answers the discount question, so a model writes its reply.
    pytest.mark.usefixtures("calls_kept", "discount_faq"),
]

PAID = Price(per_1k_prompt=0.5, per_1k_completion=1.5)


def test_a_price_is_per_thousand_tokens_and_per_hour_of_the_machine():
    assert Price(per_1k_prompt=2, per_1k_completion=4).cost(Usage(500, 250), 9) == 2.0
    assert Price(per_hour=36).cost(Usage(500, 250), 10) == pytest.approx(0.1)


def test_a_calls_cost_comes_with_its_completion():
    done = FakeLLM(
        capability="compose", name="paid", price=PAID, replies=["one two three four"]
    ).complete([ChatMessage("user", "a b c d e f")])
    usage = done.usage
    assert done.cost == pytest.approx(
        usage.prompt_tokens * 0.0005 + usage.completion_tokens * 0.0015
    )


def _spend(site, cost: float, *, days_ago: int = 0) -> None:
    conversation = conversation_resume_or_start(site=site, visitor_token=None)
    call = ModelCall.objects.create(
        conversation=conversation, role="reply", model="big", backend="fake", outcome="ok",
        total_ms=100, cost=cost,
    )  # fmt: skip
    ModelCall.objects.filter(id=call.id).update(created=timezone.now() - timedelta(days=days_ago))


def _router() -> tuple[RouterLLM, dict[str, FakeLLM]]:
    tiers = {
        "simple": FakeLLM(capability="compose", name="small", replies=["Let me ask."]),
        "medium": FakeLLM(capability="compose", name="local"),
        "complex": FakeLLM(
            capability="compose", name="big", price=PAID, replies=["Let me see what we can do."]
        ),
    }
    return RouterLLM(tiers, RouterSettings()), tiers


def test_a_replys_cost_is_on_record(demo_site):
    router, _ = _router()
    reply = reply_to_new_conversation(demo_site, router, "Can I get a discount?")
    call = ModelCall.objects.get(conversation=reply.conversation)
    assert call.model == "big" and call.cost > 0


def test_a_budget_is_spent_once_its_periods_calls_cost_it(demo_site):
    demo_site.budget_daily, demo_site.budget_monthly = Decimal("1.00"), Decimal("5.00")
    demo_site.save()
    _spend(demo_site, 0.6)
    _spend(demo_site, 3.0, days_ago=40)  # another month: counts for neither
    assert budgets_spent(site=demo_site) == []
    _spend(demo_site, 0.5)
    (spent,) = budgets_spent(site=demo_site)
    assert (spent.period, spent.spent) == ("daily", pytest.approx(1.1))
    assert [s.period for s in budget_states(site=demo_site)] == ["daily", "monthly"]


def test_over_budget_a_site_that_asks_for_it_is_answered_by_the_simple_tier(demo_site):
    demo_site.budget_daily, demo_site.over_budget = Decimal("0.01"), "cheaper"
    demo_site.save()
    _spend(demo_site, 0.02)
    router, tiers = _router()
    reply = reply_to_new_conversation(demo_site, router, "Can I get a discount?")
    stored = Message.objects.get(id=reply.id)
    assert (stored.model_name, stored.route_tier) == ("small", "simple")
    assert any("capped to simple: daily budget 0.01 spent" in r for r in stored.route_reasons)
    assert tiers["complex"].prompts == []


def test_over_budget_a_site_that_only_warns_keeps_its_tiers_and_staff_are_told(client, demo_site):
    demo_site.budget_daily = Decimal("0.01")  # over_budget: warn (the default)
    demo_site.save()
    _spend(demo_site, 0.02)
    router, _ = _router()
    assert (
        Message.objects.get(
            id=reply_to_new_conversation(demo_site, router, "Can I get a discount?").id
        ).route_tier
        == "complex"
    )
    client.force_login(staff_user("rita", site=demo_site))
    for page in ("dashboard:lead-list", "dashboard:metrics"):
        html = client.get(reverse(page)).content.decode()
        assert 'id="budgets-spent"' in html and "of its daily budget of 0.01 USD" in html


def test_llm_costs_reports_each_model_per_month_and_the_budgets(demo_site):
    demo_site.budget_monthly = Decimal("10.00")
    demo_site.save()
    _spend(demo_site, 0.25)
    _spend(demo_site, 0.5)
    out = io.StringIO()
    call_command("llm_costs", stdout=out)
    text = out.getvalue()
    month = timezone.now().strftime("%Y-%m")
    assert any(line.startswith(month) and "big" in line and line.endswith("0.7500")
               for line in text.splitlines()), text  # fmt: skip
    assert "per conversation: 0.3750 (2 conversations)" in text
    assert f"{demo_site.key}: monthly 0.7500 of 10.00 USD: within" in text


def test_llm_costs_names_the_known_sites_for_an_unknown_one(demo_site):
    with pytest.raises(CommandError, match=f"known: {demo_site.key}"):
        call_command("llm_costs", site="nope")
