"""A role served by a chain of models (llm/failover.py): who answers when one fails, and how."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from llm import (
    BackendTimeout,
    CannotContinue,
    ChainFailed,
    ChainUnavailable,
    ChatMessage,
    Completion,
    ContextWindowExceeded,
    FailoverLLM,
    ModelConfig,
    ModelNotFound,
    Preempted,
    ServerFailed,
    ServerUnreachable,
    TransientError,
    background,
    registry,
)
from llm.backends.fake import FakeLLM
from llm.base import BaseLLM
from llm.ensemble import EnsembleLLM
from llm.errors import InvalidOptions, LLMError
from llm.router import RouterLLM
from llm.routing import RouterSettings
from llm.settings import FailoverSettings, load_settings
from llm.types import Finish, JsonSchema, Options, Usage, least_capability

CHAT = [ChatMessage("user", "Hello")]


class Scripted(BaseLLM):
    """Each call takes the next step: an error raised before any text, a (text, error) pair
    that fails after sending the text, a reply, or a list of its chunks; then "<name>
    answers."."""

    backend = "scripted"

    def __init__(
        self, name: str, *steps: Any, schema: bool = False, can_continue: bool = True
    ) -> None:
        super().__init__(name=name)
        self.steps: deque[Any] = deque(steps)
        self.seen: list[tuple[list[ChatMessage], JsonSchema | None]] = []
        self.options_seen: list[Options] = []
        self.supports_schema = schema  # type: ignore[misc]  # per instance, for the test
        self.can_continue = can_continue

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        self.seen.append((list(messages), schema))
        self.options_seen.append(options)
        step = self.steps.popleft() if self.steps else f"{self.name} answers."
        if isinstance(step, LLMError):
            raise step
        if isinstance(step, tuple):
            text, error = step
            yield text
            raise error
        yield from step if isinstance(step, list) else re.findall(r"\S+\s*", step)
        yield Finish(reason="stop", usage=Usage(3, 2))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def chain(
    *models: Scripted, clock: Clock | None = None, capability: str = "acknowledge", **policy: Any
) -> FailoverLLM:
    by_name = {m.name: m for m in models}
    clock = clock or Clock()

    def build(config: ModelConfig) -> BaseLLM:
        if config.name not in by_name:
            raise ModelNotFound(f"no file for {config.name}")
        return by_name[config.name]

    names = policy.pop("unbuildable", []) + [m.name for m in models]
    return FailoverLLM(
        [ModelConfig(name=n, backend="fake", capability=capability) for n in names],
        build=build,
        policy=FailoverSettings(**({"retries": 0} | policy)),
        clock=clock,
        sleep=clock.sleep,
    )


def _reply(model: BaseLLM) -> tuple[str, Completion]:
    parts, completion = [], None
    for item in model.stream(CHAT):
        if isinstance(item, Completion):
            completion = item
        else:
            parts.append(item)
    assert completion is not None
    return "".join(parts), completion


def test_a_model_that_fails_before_any_text_is_passed_over_unseen():
    a, b = Scripted("a", ServerUnreachable("a is down")), Scripted("b")
    text, completion = _reply(chain(a, b))
    assert text == completion.text == "b answers." and completion.model == "b"
    assert len(a.seen) == len(b.seen) == 1


def test_an_error_that_may_pass_is_tried_again_on_the_same_model_after_a_back_off():
    clock = Clock()
    a, b = (
        Scripted("a", BackendTimeout("slow"), BackendTimeout("slow"), "a at last."),
        Scripted("b"),
    )
    text, _ = _reply(chain(a, b, clock=clock, retries=2, backoff_s=0.5))
    assert text == "a at last." and b.seen == []
    assert clock.slept == [0.5, 1.0]  # doubled each time


def test_an_error_that_will_not_pass_moves_on_at_once():
    clock = Clock()
    a, b = Scripted("a", ContextWindowExceeded("too long for a")), Scripted("b")
    text, _ = _reply(chain(a, b, clock=clock, retries=2))
    assert text == "b answers." and len(a.seen) == 1 and clock.slept == []


def test_a_model_that_keeps_failing_cools_down_and_is_tried_again_after():
    clock = Clock()
    a = Scripted("a", ServerFailed("500"), ServerFailed("500"), "a is back.")
    b = Scripted("b")
    model = chain(a, b, clock=clock, failures=2, cooldown_s=60)
    assert [_reply(model)[0] for _ in range(3)] == ["b answers."] * 3
    assert len(a.seen) == 2  # the third call passed it over
    clock.now += 61
    assert _reply(model)[0] == "a is back."


def test_failures_count_calls_not_attempts_and_a_success_through_complete_resets_them():
    clock = Clock()
    a = Scripted("a", *[ServerFailed("500")] * 4, "a answers.", *[ServerFailed("500")] * 2)
    model = chain(a, Scripted("b"), clock=clock, retries=1, failures=3)
    for _ in range(2):  # two calls, two attempts each
        assert model.complete(CHAT).text == "b answers."
    assert model.members[0].failed_in_a_row == 2 and model.members[0].cool_until == 0
    assert model.complete(CHAT).text == "a answers."  # complete() stops at the Completion
    assert model.members[0].failed_in_a_row == 0
    assert model.complete(CHAT).text == "b answers."
    assert model.members[0].failed_in_a_row == 1  # in a row again, from one


def test_with_every_model_cooling_the_one_whose_cooldown_ends_first_is_tried():
    clock = Clock()
    a, b = Scripted("a", ServerFailed("500"), "a again."), Scripted("b", ServerFailed("500"))
    model = chain(a, b, clock=clock, failures=1, cooldown_s=60)
    with pytest.raises(ChainUnavailable):
        _reply(model)
    assert _reply(model)[0] == "a again."


def test_when_every_model_fails_the_error_names_each_and_says_whether_it_may_pass():
    a, b = Scripted("a", ServerUnreachable("a is down")), Scripted("b", BackendTimeout("b slow"))
    with pytest.raises(ChainUnavailable, match=r"a: a is down; b: b slow") as caught:
        _reply(chain(a, b))
    assert isinstance(caught.value, TransientError)
    a, b = Scripted("a", ServerUnreachable("down")), Scripted("b", ContextWindowExceeded("long"))
    with pytest.raises(ChainFailed) as failed:
        _reply(chain(a, b))
    assert not isinstance(failed.value, TransientError)


def _items(model: BaseLLM, **options: Any) -> tuple[list[str], Completion]:
    *chunks, completion = list(model.stream(CHAT, **options))
    assert isinstance(completion, Completion)
    return [str(c) for c in chunks], completion


def test_a_reply_cut_off_midway_is_continued_by_the_next_model_from_the_words_sent():
    a = Scripted("a", ("We sell dashboards", ServerFailed("connection lost")))
    b = Scripted("b", [" for", " retail", " teams."])
    chunks, completion = _items(chain(a, b))
    # One reply: the words a sent, then b's, none twice; the Completion holds it whole.
    assert chunks == ["We sell dashboards", " for", " retail", " teams."]
    assert completion.text == "We sell dashboards for retail teams."
    assert completion.model == "b" and completion.failed_over == ("a",)
    ((messages, _),) = b.seen  # the words sent open b's turn
    assert messages == [*CHAT, ChatMessage("assistant", "We sell dashboards")]
    assert completion.timings.time_to_first_token is not None


def test_a_continuation_after_a_space_does_not_write_a_second_one():
    a = Scripted("a", ("We sell ", ServerFailed("connection lost")))
    b = Scripted("b", [" dashboards", "."])
    chunks, completion = _items(chain(a, b))
    assert completion.text == "We sell dashboards." and "".join(chunks) == completion.text
    # The prompt ends on the last word: a trailing space is a token the model would not pick.
    assert b.seen[0][0][-1] == ChatMessage("assistant", "We sell")


def test_a_continuation_writes_what_was_left_of_the_sentences_and_tokens():
    a = Scripted("a", ("One. Two", ServerFailed("connection lost")))
    b = Scripted("b", [" more.", " Three.", " Four.", " Five."])
    _, completion = _items(chain(a, b), max_sentences=3, max_tokens=40)
    assert completion.text == "One. Two more. Three."  # three sentences in all
    assert b.options_seen[0].max_tokens == 40 - b.count_tokens("One. Two")


def test_a_continuation_tried_again_is_given_the_same_budget():
    a = Scripted("a", ("One two", ServerFailed("connection lost")))
    b = Scripted("b", BackendTimeout("slow"), [" three."])
    _, completion = _items(chain(a, b, retries=1), max_tokens=40)
    assert completion.text == "One two three."
    assert [o.max_tokens for o in b.options_seen] == [40 - b.count_tokens("One two")] * 2


def test_white_space_alone_is_no_reply_begun():
    a = Scripted("a", ("\n", ServerFailed("connection lost")))
    b = Scripted("b", can_continue=False)
    _, completion = _items(chain(a, b))
    assert completion.text == "b answers." and b.seen[0][0] == CHAT  # started afresh


def test_a_model_that_cannot_continue_is_passed_over_for_one_that_can_and_not_blamed():
    a = Scripted("a", ("Hello, ", ServerFailed("connection lost")))
    b, c = Scripted("b", can_continue=False), Scripted("c", ["there."])
    model = chain(a, b, c, failures=1)
    _, completion = _items(model)
    assert completion.text == "Hello, there." and completion.model == "c"
    assert b.seen == [] and model.members[1].failed_in_a_row == 0
    assert model.members[0].cool_until > 0  # a failed; b did not


def test_with_no_model_to_continue_a_reply_the_call_fails_rather_than_end_it_silently():
    a = Scripted("a", ("Hello, ", ServerFailed("connection lost")))
    b = Scripted("b", can_continue=False)
    got: list[Any] = []
    with pytest.raises(ChainFailed, match=r"a: connection lost; b: .*cannot continue"):
        for item in chain(a, b).stream(CHAT):
            got.append(item)
    assert got == ["Hello, "]


def test_json_under_a_schema_is_not_taken_up_halfway():
    a = Scripted("a", ('{"name": "A', ServerFailed("connection lost")), schema=True)
    b = Scripted("b", '{"name": "Ana"}', schema=True)
    with pytest.raises(ServerFailed):
        chain(a, b).extract(CHAT, Lead, attempts=1)
    assert b.seen == []


def test_a_model_asked_to_continue_that_cannot_says_so():
    with pytest.raises(CannotContinue, match="cannot continue a reply"):
        Scripted("b", can_continue=False).complete([*CHAT, ChatMessage("assistant", "Hi")])


def test_work_that_gives_way_is_not_failed_over():
    a, b = Scripted("a"), Scripted("b")
    with background(lambda: True), pytest.raises(Preempted):
        _reply(chain(a, b))
    assert a.seen == b.seen == []


def test_a_model_that_cannot_be_built_here_costs_only_its_turn():
    b = Scripted("b")
    clock = Clock()
    model = chain(b, clock=clock, unbuildable=["gpu"])  # first in the chain; no file here
    assert _reply(model)[0] == "b answers."
    gpu = model.members[0]
    cooled = gpu.cool_until
    assert cooled == clock.now + 60
    clock.now += 10
    assert _reply(model)[0] == "b answers."
    assert gpu.cool_until == cooled  # not built again on every call


class Lead(BaseModel):
    name: str


def test_extraction_tells_a_model_without_schema_support_the_schema_instead():
    a = Scripted("a", ServerUnreachable("down"), schema=True)
    b = Scripted("b", '{"name": "Ana"}')
    assert chain(a, b).extract(CHAT, Lead) == Lead(name="Ana")
    assert a.seen[0][1] is not None  # the one that could was given the schema itself
    ((messages, schema),) = b.seen
    assert schema is None and "JSON Schema" in messages[-1].content


# -- settings --------------------------------------------------------------------------------


def _settings(tmp_path: Path, roles: str) -> Path:
    path = tmp_path / "llm.yaml"
    path.write_text(
        "default_model: a\nmodels:\n  a: {backend: fake}\n  b: {backend: fake}\n"
        f"roles:\n{roles}\nfailover: {{retries: 2, cooldown_s: 5}}\n"
    )
    return path


def test_a_role_may_name_a_chain_and_the_failover_policy_is_read(tmp_path: Path):
    settings = load_settings(_settings(tmp_path, "  reply: [b, a]\n  extraction: a"), environ={})
    assert [c.name for c in settings.chain("reply")] == ["b", "a"]
    assert settings.for_role("reply").name == "b"
    assert [c.name for c in settings.chain("extraction")] == ["a"]
    assert settings.failover == FailoverSettings(retries=2, cooldown_s=5)


@pytest.mark.parametrize(
    ("roles", "problem"),
    [("  reply: [a, nope]", "nope"), ("  reply: [a, a]", "twice"), ("  reply: []", "no model")],
)
def test_a_chain_naming_a_model_twice_or_an_unknown_one_is_refused(
    tmp_path: Path, roles: str, problem: str
):
    with pytest.raises(InvalidOptions, match=problem):
        load_settings(_settings(tmp_path, roles), environ={})


def test_a_role_with_a_chain_gets_a_failover_model_and_a_role_with_one_model_that_model(
    configured,
):
    configured(
        "default_model: a\nmodels:\n  a: {backend: fake}\n  b: {backend: fake}\n"
        "roles:\n  reply: [b, a]\n  extraction: a\n"
    )
    reply = registry.get_llm(role="reply")
    assert isinstance(reply, FailoverLLM) and reply.name == "b > a"
    assert registry.get_llm(role="reply") is reply  # built once per process
    assert isinstance(registry.get_llm(role="extraction"), FakeLLM)
    assert reply.complete(CHAT).text == "You said: Hello"


def test_a_worker_starts_when_one_model_of_its_chain_can_run_and_names_the_others(
    configured, tmp_path: Path
):
    missing = tmp_path / "absent.gguf"
    configured(
        f"default_model: local\nmodels:\n  gpu: {{backend: llama_cpp, model_path: {missing}}}\n"
        "  local: {backend: fake}\nroles:\n  reply: [gpu, local]\n  extraction: [gpu]\n"
    )
    ((name, problem),) = registry.preflight_role("reply")
    assert name == "gpu" and isinstance(problem, ModelNotFound)
    with pytest.raises(ModelNotFound):
        registry.preflight_role("extraction")  # its one model cannot run here
    configured(
        f"default_model: gpu\nmodels:\n  gpu: {{backend: llama_cpp, model_path: {missing}}}\n"
        "  remote: {backend: openai_compat}\nroles:\n  reply: [gpu, remote]\n"
    )
    with pytest.raises(ChainFailed, match=r"reply role.*gpu: .*absent.gguf.*remote: .*model"):
        registry.preflight_role("reply")  # none can: each one's reason


def test_a_chain_router_or_ensemble_may_write_only_what_its_least_capable_model_may():
    composing = FakeLLM(name="big", capability="compose")
    small = FakeLLM(name="small")
    assert least_capability(["compose", "acknowledge"]) == "acknowledge"
    assert chain(Scripted("a"), capability="compose").capability == "compose"
    mixed = FailoverLLM(
        [
            ModelConfig(name="big", backend="fake", capability="compose"),
            ModelConfig(name="small", backend="fake"),
        ],
        build=lambda config: composing if config.name == "big" else small,
    )
    assert mixed.capability == "acknowledge"
    tiers = {"simple": small, "medium": composing, "complex": composing}
    assert RouterLLM(tiers, RouterSettings()).capability == "acknowledge"
    assert EnsembleLLM([composing, composing], embedder=None).capability == "compose"
