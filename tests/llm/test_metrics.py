"""Every model call measured (llm/metrics.py): one record per call from outside the model layer,
to the listeners and as Prometheus series."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

from llm import (
    CallRecord,
    ChatMessage,
    GenerationFailed,
    Preempted,
    ServerUnreachable,
    background,
    call_context,
    metrics,
)
from llm.backends.fake import FakeLLM
from llm.router import RouterLLM
from llm.routing import RouterSettings
from tests.llm.test_failover import Scripted, chain
from tests.llm.test_router import Lead

CHAT = [ChatMessage("user", "Hello")]


@pytest.fixture
def records() -> Iterator[list[CallRecord]]:
    seen: list[CallRecord] = []
    metrics.listen(seen.append)
    yield seen
    metrics.unlisten(seen.append)


def sample(name: str, **labels: str) -> float:
    """A series' value, as /metrics would read it (this process's, or every process's)."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return registry.get_sample_value(name, labels) or 0.0


def test_a_streamed_call_is_recorded_with_its_role_counts_and_times(records):
    model = FakeLLM(name="m-stream", replies=["Hello there, friend."])
    before = sample(
        "salesbot_llm_requests_total", role="reply", model="m-stream", tier="", outcome="ok"
    )
    with call_context(role="reply", conversation_id=7):
        assert "".join(str(i) for i in model.stream(CHAT) if isinstance(i, str))
    (record,) = records
    assert (record.role, record.model, record.backend, record.outcome) == (
        "reply",
        "m-stream",
        "fake",
        "ok",
    )
    assert record.context["conversation_id"] == 7 and record.completion_tokens == 3
    assert record.first_token_s is not None and record.total_s >= record.first_token_s
    after = sample(
        "salesbot_llm_requests_total", role="reply", model="m-stream", tier="", outcome="ok"
    )
    assert after == before + 1
    assert (
        sample("salesbot_llm_tokens_total", role="reply", model="m-stream", kind="completion") >= 3
    )


def test_a_stream_its_caller_stopped_is_recorded_with_what_it_used(records):
    model = FakeLLM(name="m-stopped", replies=["One two three four five six seven."])
    with call_context(role="reply", conversation_id=8):
        stream = model.stream(CHAT)
        read = [next(stream), next(stream)]
        stream.close()  # as a reply withheld for a leak stops reading
    assert all(isinstance(chunk, str) for chunk in read)
    (record,) = records
    assert (record.outcome, record.model, record.context["conversation_id"]) == (
        "stopped",
        "m-stopped",
        8,
    )
    # The prompt as `fit` counts it; a token a chunk read.
    expected_prompt = model.count_tokens("Hello") + model.per_message_overhead
    assert (record.prompt_tokens, record.completion_tokens) == (expected_prompt, 2)
    assert (
        sample(
            "salesbot_llm_requests_total",
            role="reply",
            model="m-stopped",
            tier="",
            outcome="stopped",
        )
        >= 1
    )


def test_complete_and_each_extract_attempt_are_calls_and_warming_is_not(records):
    model = FakeLLM(name="m-complete", replies=["Hi.", "not json", '{"name": "Ana"}'])
    model.complete(CHAT)
    assert model.extract(CHAT, Lead, attempts=2) == Lead(name="Ana")
    assert [r.model for r in records] == ["m-complete"] * 3
    model._holds_nothing = lambda slot: True  # type: ignore[method-assign]
    assert model.warm(CHAT) and len(records) == 3


def test_a_failed_call_is_recorded_with_its_error_type(records):
    model = FakeLLM(name="m-fail", replies=[RuntimeError("boom")])
    with call_context(role="extraction"), pytest.raises(GenerationFailed):
        model.complete(CHAT)
    (record,) = records
    assert (record.outcome, record.error_type, record.model) == (
        "error",
        "GenerationFailed",
        "m-fail",
    )
    assert sample("salesbot_llm_errors_total", role="extraction", error="GenerationFailed") >= 1


def test_work_that_gave_way_is_recorded_as_such(records):
    with background(lambda: True), pytest.raises(Preempted):
        FakeLLM(name="m-bg").complete(CHAT)
    assert records[0].outcome == "preempted"


def test_a_chains_call_names_the_model_that_answered_and_those_that_failed(records):
    model = chain(Scripted("m-a", ServerUnreachable("down")), Scripted("m-b"))
    before = sample("salesbot_llm_failovers_total", role="reply", model="m-a")
    with call_context(role="reply"):
        model.complete(CHAT)
    (record,) = records  # one call, however many models it took
    assert (record.model, record.failovers) == ("m-b", ("m-a",))
    assert sample("salesbot_llm_failovers_total", role="reply", model="m-a") == before + 1


def test_a_routed_call_has_its_tier(records):
    fake = FakeLLM(name="m-tier")
    RouterLLM({"simple": fake, "medium": fake, "complex": fake}, RouterSettings()).complete(CHAT)
    assert records[0].tier == "simple"


def test_a_listener_that_fails_is_logged_never_the_callers_failure(caplog):
    def broken(record: CallRecord) -> None:
        raise RuntimeError("database down")

    metrics.listen(broken)
    try:
        assert FakeLLM(name="m-listener", replies=["Fine."]).complete(CHAT).text == "Fine."
    finally:
        metrics.unlisten(broken)
    assert "could not be kept" in caplog.text
