"""The smart router (llm/routing.py, llm/router.py): which tier each message goes to, and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from llm import ChainFailed, ChatMessage, FailoverLLM, InvalidOptions, ModelNotFound, registry
from llm.backends.fake import FakeLLM
from llm.router import RouterLLM
from llm.routing import RouterSettings, route
from llm.settings import load_settings

DEFAULT = RouterSettings()


def _said(*turns: str) -> list[ChatMessage]:
    chat = [ChatMessage("system", "You sell Acme Analytics.")]
    for turn in turns:
        chat += [ChatMessage("user", turn), ChatMessage("assistant", "Sure.")]
    return chat[:-1]  # ends with the message being answered


@pytest.mark.parametrize(
    ("message", "tier"),
    [
        ("Hi!", "simple"),
        ("Thanks, that helps.", "simple"),
        ("Do you have an API?", "simple"),
        ("What does it cost for 20 seats?", "medium"),
        ("How much is the team plan per month?", "medium"),
        ("Could you book a demo for Tuesday?", "medium"),
        ("Is there an export? Does it do SSO? And can it run on premises?", "medium"),
        ("Can we get a discount if we pay annually? Your competitor is cheaper.", "complex"),
        ("I want to cancel my subscription.", "complex"),
        ("The export has been broken for a week and nobody answers. This is unacceptable.",
         "complex"),
        ("This is the third time the dashboard crashed. I want a refund!", "complex"),
        # One signal each.
        ("Can we schedule a demo?", "medium"),
        ("The export is broken.", "complex"),
        ("Please add 10 more seats to our account.", "simple"),
        # Ordinary words that only look like a signal.
        ("No problem, thanks!", "simple"),
        ("We plan to roll it out in May.", "simple"),
        ("What issues does it solve?", "simple"),
        ("I feel the feedback tool is great.", "simple"),
        ("We do bookkeeping for clinics.", "simple"),
    ],
)  # fmt: skip
def test_each_message_goes_to_the_tier_its_complexity_asks_for(message: str, tier: str):
    decision = route(_said(message), DEFAULT)
    assert decision.tier == tier, decision


def test_a_star_between_words_stands_for_up_to_three():
    decision = route(_said("Please add 10 more seats."), DEFAULT)
    assert "action: add 10 more seats" in decision.reasons


def test_the_decision_gives_its_score_and_the_signals_that_counted():
    decision = route(_said("Can you do a better price? We might cancel otherwise."), DEFAULT)
    assert decision.tier == "complex" and decision.score == 1.0
    assert "negotiation: better price" in decision.reasons
    assert "cancellation: cancel" in decision.reasons
    assert route(_said("Hi!"), DEFAULT).reasons == ()


def test_only_the_message_being_answered_is_read_and_the_conversation_only_for_its_depth():
    early = route(_said("I want a refund!", "OK, and what is your address?"), DEFAULT)
    assert early.tier == "simple" and not any("refund" in r for r in early.reasons)
    deep = route(_said(*["Tell me more."] * 9, "What does it cost?"), DEFAULT)
    shallow = route(_said("What does it cost?"), DEFAULT)
    assert deep.score > shallow.score and "turn 10" in deep.reasons


def test_long_messages_and_many_questions_raise_the_score():
    long = " ".join(["We compare analytics tools for our retail stores"] * 10) + "."
    assert route(_said(long), DEFAULT).score > route(_said("We compare tools."), DEFAULT).score
    many = route(_said("Is it fast? Is it safe? Is it cheap to run? Is it open?"), DEFAULT)
    assert "4 questions" in many.reasons


def test_weights_thresholds_and_words_come_from_the_settings():
    german = RouterSettings.model_validate(
        {"words": {"pricing": ["preis*", "kosten"]}, "weights": {"pricing": 0.6}}
    )
    assert route(_said("Was kostet der Preis?"), DEFAULT).tier == "simple"
    assert route(_said("Was ist der Preis?"), german).tier == "complex"
    strict = RouterSettings.model_validate({"simple": {"up_to": 0.05}, "medium": {"up_to": 0.1}})
    assert route(_said("What does it cost?"), strict).tier == "complex"


@pytest.mark.parametrize(
    ("router", "problem"),
    [
        ({"simple": {"up_to": 0.6}, "medium": {"up_to": 0.5}}, "must be below"),
        ({"complex": {"up_to": 0.9}}, "complex takes every score"),
        ({"words": {"weather": ["rain"]}}, "unknown signals"),
        ({"weights": {"mood": 0.2}}, "mood"),
        ({"words": {"pricing": ["*"]}}, "must be words"),
        ({"words": {"pricing": [" preis"]}}, "must be words"),
    ],
)
def test_bad_router_settings_are_refused_with_what_is_wrong(router, problem):
    with pytest.raises(ValueError, match=problem):
        RouterSettings.model_validate(router)


class Lead(BaseModel):
    name: str


def test_the_router_streams_the_tiers_model_and_returns_its_decision():
    tiers = {
        "simple": FakeLLM(name="small", replies=["Hello there!"]),
        "medium": FakeLLM(name="local", replies=["Plans start at 10 euros."]),
        "complex": FakeLLM(name="big", replies=["I am sorry to hear that."]),
    }
    router = RouterLLM(tiers, DEFAULT)
    *chunks, done = list(router.stream(_said("This is broken, I want a refund!")))
    assert "".join(map(str, chunks)) == "I am sorry to hear that." == done.text
    assert done.model == "big" and done.route is not None and done.route.tier == "complex"
    assert router.complete(_said("Hi")).route.tier == "simple"
    assert tiers["medium"].prompts == []  # only the tiers routed to were asked
    assert router.template_family == tiers["medium"].template_family  # the prompt's family


def test_a_tier_that_cannot_take_a_schema_is_told_it():
    fake = FakeLLM(name="small", replies=['{"name": "Ana"}'])
    router = RouterLLM({"simple": fake, "medium": fake, "complex": fake}, DEFAULT)
    assert router.extract([ChatMessage("user", "Hi")], Lead) == Lead(name="Ana")
    assert "JSON Schema" in fake.prompts[0][-1].content


MODELS = "models:\n  a: {backend: fake}\n  b: {backend: fake}\n  c: {backend: fake}\n"


def test_the_routed_role_gets_a_router_and_a_tier_without_models_uses_the_roles_chain(
    configured,
):
    configured(
        f"default_model: a\n{MODELS}roles:\n  reply: [b, a]\n  extraction: a\n"
        "router:\n  simple: {model: c, up_to: 0.2}\n  medium: {up_to: 0.5}\n"
        "  complex: {model: [a, b]}\n"
    )
    reply = registry.get_llm(role="reply")
    assert isinstance(reply, RouterLLM) and registry.get_llm(role="reply") is reply
    assert reply.tiers["simple"].name == "c"
    assert isinstance(reply.tiers["medium"], FailoverLLM) and reply.tiers["medium"].name == "b > a"
    assert reply.tiers["complex"].name == "a > b"
    assert isinstance(registry.get_llm(role="extraction"), FakeLLM)  # not routed
    assert reply.ready() is reply.tiers["medium"].ready()  # every tier loaded; medium's decides


def test_a_tier_naming_an_unknown_model_is_refused(tmp_path: Path):
    path = tmp_path / "llm.yaml"
    path.write_text(f"default_model: a\n{MODELS}router:\n  complex: {{model: [a, gpu]}}\n")
    with pytest.raises(InvalidOptions, match=r"router.complex.model names model 'gpu'"):
        load_settings(path, environ={})


def test_a_worker_checks_every_tiers_models(configured, tmp_path: Path):
    missing = tmp_path / "absent.gguf"
    gpu = f"  gpu: {{backend: llama_cpp, model_path: {missing}}}\n"
    configured(f"default_model: a\n{MODELS}{gpu}router:\n  complex: {{model: [gpu, a]}}\n")
    ((name, problem),) = registry.preflight_role("reply")
    assert name == "gpu" and isinstance(problem, ModelNotFound)
    configured(f"default_model: a\n{MODELS}{gpu}router:\n  complex: {{model: gpu}}\n")
    with pytest.raises(ModelNotFound):
        registry.preflight_role("reply")  # the complex tier has no model that can run
    configured(f"default_model: a\n{MODELS}{gpu}router:\n  complex: {{model: [gpu]}}\n")
    with pytest.raises((ModelNotFound, ChainFailed)):
        registry.preflight_role("reply")
