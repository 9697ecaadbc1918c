"""The canary (leads/services/canary.py, manage.py llm_canary): a candidate replayed on recorded
conversations side by side with the serving model."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leads.models import Lead
from leads.services.canary import canary_run
from leads.services.conversations import conversation_resume_or_start
from leads.services.extraction import message_facts_extract
from leads.services.messages import message_receive
from leads.services.replies import reply_generate
from leads.services.setup import demo_knowledge_ensure
from llm import registry
from llm.backends.fake import FakeLLM
from llm.embeddings import MiniLM, minilm_path

pytestmark = pytest.mark.django_db(transaction=True)

MODELS = Path(__file__).resolve().parents[2] / "models"
SAID = "Hi, I'm Ana Torres from Globex and we need 12 seats."
READ = json.dumps(
    {
        "name": {"value": "Ana Torres", "quote": "I'm Ana Torres"},
        "company": {"value": "Globex", "quote": "from Globex"},
        "seats": {"value": 12, "quote": "12 seats"},
    }
)


GREETING = "Nice to meet you, Ana, and welcome."


@pytest.fixture
def recorded(demo_site):
    """A conversation whose reply came from the serving model (GREETING), and whose lead's
    facts the rules settled. The Site asks nothing, so that the reply is the model's text
    alone: a candidate's differs by its own words only."""
    demo_site.qualification_fields = []
    demo_site.save(update_fields=["qualification_fields"])
    conversation = conversation_resume_or_start(site=demo_site, visitor_token=None)
    message = message_receive(conversation=conversation, text=SAID, client_id=uuid.uuid4())
    reply_generate(
        message_id=message.id,
        task_id="t",
        model=FakeLLM(capability="compose", name="serving", replies=[GREETING]),
    )
    message_facts_extract(message_id=message.id, extractor="rules")
    lead = Lead.objects.get(conversation=conversation)
    assert (lead.name, lead.company, lead.seats) == ("Ana Torres", "Globex", 12)
    return conversation


def test_the_candidate_is_measured_side_by_side_with_the_serving_model(recorded):
    serving = FakeLLM(capability="compose", name="serving", replies=[GREETING])  # as it did
    candidate = FakeLLM(
        capability="compose", name="candidate", replies=["Our office dog is called Biscuit."]
    )
    report = canary_run(
        candidate=candidate,
        serving=serving,
        serving_extraction=FakeLLM(capability="compose", name="reader", replies=[READ]),
        conversations=5,
        embedder=MiniLM(minilm_path(MODELS)),
    )
    s, c = report.serving, report.candidate
    assert report.conversations == 1 and s.replies == c.replies == 1
    assert s.similarity[0] == pytest.approx(1.0, abs=1e-4) and c.similarity[0] < 0.5
    # The serving reader finds the lead's three facts; the candidate's answer is no JSON.
    assert (s.extraction.micro.tp, s.extraction.micro.fp) == (3, 0) and s.extraction.micro.f1 == 1
    assert c.extraction.micro.tp == 0 and c.extraction.micro.fn == 3
    assert s.first_token_s and c.tokens_per_second
    # Composed as the reply path composes: the model is told its part, through the same gate.
    assert "Reply in English." in candidate.prompts[0][-2].content
    assert (s.model_parts, c.model_parts, s.withheld) == (1, 1, 0)


def test_a_model_that_may_only_acknowledge_is_not_asked_what_the_product_answers(recorded):
    """A pricing question the Site's knowledge answers is the product's quote with a small
    model: nothing for the canary to ask of it, and the replay is the product's words."""
    demo_knowledge_ensure(recorded.site)
    message = message_receive(
        conversation=recorded, text="How much is the Team plan?", client_id=uuid.uuid4()
    )
    reply_generate(message_id=message.id, task_id="t2", model=FakeLLM(name="serving"))
    small = FakeLLM(name="candidate", replies=["It is free for you."])
    report = canary_run(
        candidate=small,
        serving=FakeLLM(name="serving"),
        serving_extraction=FakeLLM(name="reader", replies=[READ]),
        embedder=None,
    )
    assert not any("Team plan" in prompt[-1].content for prompt in small.prompts)
    assert report.candidate.similarity[-1] == 1.0  # the product's quote, as recorded


def test_errors_are_counted_not_fatal(recorded):
    candidate = FakeLLM(
        capability="compose", name="candidate", replies=[RuntimeError("out of memory")]
    )
    report = canary_run(
        candidate=candidate,
        serving=FakeLLM(capability="compose", name="serving", replies=[GREETING]),
        serving_extraction=FakeLLM(capability="compose", name="reader"), embedder=None,
    )  # fmt: skip
    assert report.candidate.errors and "GenerationFailed" in report.candidate.errors[0]
    assert report.measure.startswith("character ratio") and report.serving.similarity == [1.0]


def test_the_command_prints_the_report_with_real_models(recorded, configured_models):
    out, err = io.StringIO(), io.StringIO()
    call_command("llm_canary", candidate="local", conversations=1, stdout=out, stderr=err)
    text = out.getvalue()
    assert "1 conversations, 1 replies replayed" in text
    for label in ("reply similarity (embedding cosine)", "extraction F1", "tokens/s, mean"):
        assert label in text
    assert text.strip().splitlines()[-1].startswith("candidate: ")


def test_the_command_needs_a_known_candidate_and_something_to_replay(db, configured_models):
    with pytest.raises(CommandError, match="unknown model 'nope'"):
        call_command("llm_canary", candidate="nope")
    with pytest.raises(CommandError, match="no recorded conversation"):
        call_command("llm_canary", candidate="local")


@pytest.fixture
def configured_models(tmp_path, monkeypatch):
    """The bundled model, through llama.cpp, for every role and as the candidate."""
    path = tmp_path / "llm.yaml"
    path.write_text(
        "default_model: local\nmodels:\n"
        f"  local: {{backend: llama_cpp, model_path: {MODELS / 'SmolLM2-135M-Instruct.Q4_1.gguf'},"
        " n_ctx: 2048, template_family: chatml, defaults: {max_tokens: 24}}\n"
    )
    monkeypatch.setenv("LLM_CONFIG", str(path))
    monkeypatch.setenv("LLM_MODELS_DIR", str(MODELS))
    registry.reset()
    yield
    registry.reset()
