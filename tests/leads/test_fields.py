"""The one table of facts and topics (leads/fields.py) agrees with everything that reads it:
the Lead's columns, a new Site's asking order, the dashboard's fact URLs, the CSV export's
columns, the labels and the reply prompt's summary of what is known."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import pytest
from django.db import models
from django.urls import reverse

from leads import policy
from leads.exports import EXPORT_COLUMNS
from leads.extraction.facts import Source
from leads.fields import (
    DEFAULT_QUALIFICATION_ORDER,
    EXPORT_FACTS,
    FACT_NAMES,
    FACTS,
    TOPIC_NAMES,
    TOPICS,
    Fact,
    Topic,
    editable,
    fact_label,
    prompt_label,
    topic,
)
from leads.models import Evidence, Lead, Site

TEXT_COLUMNS = (models.CharField, models.TextField)  # EmailField is a CharField


@pytest.mark.parametrize("name", FACT_NAMES)
def test_every_fact_is_a_column_of_the_lead(name: str):
    field = Lead._meta.get_field(name)
    assert field.concrete and not field.is_relation
    assert field.column == name


@pytest.mark.parametrize("name", FACT_NAMES)
def test_an_empty_fact_is_none_in_a_nullable_column_and_blank_in_a_text_one(name: str):
    field = Lead._meta.get_field(name)
    if field.null:
        assert Lead.fact_empty(name) is None
    else:
        assert isinstance(field, TEXT_COLUMNS)
        assert Lead.fact_empty(name) == ""


@pytest.mark.parametrize("name", FACT_NAMES)
def test_an_empty_fact_is_what_a_new_lead_holds(name: str):
    assert Lead.fact_empty(name) == getattr(Lead(), name)


@pytest.mark.parametrize("item", TOPICS, ids=TOPIC_NAMES)
def test_every_topic_names_known_facts(item: Topic):
    assert item.facts
    assert set(item.facts) <= set(FACT_NAMES)
    assert set(item.answered_by) <= set(FACT_NAMES)


def test_the_default_order_asks_for_every_topic_once():
    assert len(DEFAULT_QUALIFICATION_ORDER) == len(set(DEFAULT_QUALIFICATION_ORDER))
    assert set(DEFAULT_QUALIFICATION_ORDER) == set(TOPIC_NAMES)


def test_the_default_order_follows_the_ask_ranks():
    ranks = [topic(name).ask_rank for name in DEFAULT_QUALIFICATION_ORDER]
    assert ranks == list(range(1, len(TOPICS) + 1))


def test_a_new_site_asks_in_the_default_order():
    assert Site().qualification_fields == list(DEFAULT_QUALIFICATION_ORDER)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(editable()))
def test_every_editable_key_opens_the_dashboards_fact_form(client, rep, lead: Lead, key: str):
    client.force_login(rep)
    response = client.get(reverse("dashboard:lead-fact", args=[lead.id, key]))
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_fact_the_table_does_not_edit_is_not_found_on_the_dashboard(client, rep, lead: Lead):
    client.force_login(rep)
    response = client.get(reverse("dashboard:lead-fact", args=[lead.id, "budget_amount"]))
    assert response.status_code == 404  # edited as part of the budget topic


@pytest.mark.django_db
def test_an_unknown_fact_is_not_found_on_the_dashboard(client, rep, lead: Lead):
    client.force_login(rep)
    response = client.get(reverse("dashboard:lead-fact", args=[lead.id, "shoe_size"]))
    assert response.status_code == 404


def test_the_editable_facts_cover_every_fact_once():
    edited = [name for names in editable().values() for name in names]
    assert sorted(edited) == sorted(FACT_NAMES)


def test_the_export_lists_the_facts_between_site_and_score_in_table_order():
    start, end = EXPORT_COLUMNS.index("site"), EXPORT_COLUMNS.index("score")
    assert EXPORT_COLUMNS[start + 1 : end] == list(EXPORT_FACTS)
    assert list(EXPORT_FACTS) == [name for t in TOPICS for name in t.facts]


def test_the_export_has_a_column_for_every_fact():
    assert sorted(EXPORT_FACTS) == sorted(FACT_NAMES)


def test_known_facts_have_their_own_labels():
    assert (fact_label("job_title"), prompt_label("job_title")) == ("job title", "role")


@pytest.mark.parametrize("label", [fact_label, prompt_label])
def test_an_unknown_name_is_labelled_as_it_is(label: Callable[[str], str]):
    assert label("shoe_size") == "shoe_size"


def test_the_known_summary_lists_facts_by_their_prompt_labels():
    facts = {"job_title": "CTO", "timeline_months": 3, "is_decision_maker": True, "name": ""}
    assert policy.known_summary(facts) == (
        'role: "CTO"; months until they start: 3; decides on the purchase: yes.'
    )


@pytest.mark.parametrize("item", FACTS, ids=FACT_NAMES)
def test_every_fact_reaches_the_prompt_under_its_prompt_label(item: Fact):
    assert policy.known_summary({item.name: "x"}) == f'{item.prompt_label}: "x".'


def test_the_pure_cores_sources_are_the_evidence_models_extractors():
    """extraction.facts.Source spells in pure Python what Evidence.Extractor stores."""
    assert set(get_args(Source)) == set(Evidence.Extractor.values)
