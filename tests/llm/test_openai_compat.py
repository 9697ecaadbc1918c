"""The openai_compat backend: request shapes and error mapping at the HTTP boundary.

Wire-format tests talk to a small local server that speaks OpenAI's documented chat completions
format (SSE); the tests marked slow use the real llama-cpp-python server of the contract suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from llm import (
    BackendTimeout,
    BackendUnavailable,
    CannotContinue,
    ChatMessage,
    ContextWindowExceeded,
    GenerationFailed,
    InvalidOptions,
    ModelConfig,
    Preempted,
    Usage,
    background,
    registry,
)
from llm.backends.openai_compat import OpenAICompatLLM
from tests.llm.engines import Engine
from tests.llm.engines.openai_compat import server_config
from tests.llm.wire_server import Reply, WireServer, chunk, text_reply

CHAT = [ChatMessage("user", "Hello")]


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer()
    yield server
    server.close()


def build(wire: WireServer, **fields: Any) -> OpenAICompatLLM:
    config = ModelConfig.model_validate(
        {"backend": "openai_compat", "model": "m", "base_url": wire.url} | fields
    )
    model = registry.build(config)
    assert isinstance(model, OpenAICompatLLM)
    return model


class Lead(BaseModel):
    name: str


# -- configuration ---------------------------------------------------------------------------


def test_the_api_key_is_read_from_the_named_variable_and_sent_as_a_bearer_token(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SALESBOT_TEST_KEY", "sk-test-123")
    build(wire, api_key_env="SALESBOT_TEST_KEY").complete(CHAT)
    assert wire.requests[0].headers["Authorization"] == "Bearer sk-test-123"


def test_no_api_key_variable_sends_no_authorization(wire: WireServer):
    build(wire).complete(CHAT)
    assert "Authorization" not in wire.requests[0].headers


def test_an_unset_api_key_variable_fails_at_build_time(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("SALESBOT_TEST_KEY", raising=False)
    with pytest.raises(BackendUnavailable, match="SALESBOT_TEST_KEY"):
        build(wire, api_key_env="SALESBOT_TEST_KEY")
    assert wire.requests == []


def test_preflight_checks_the_api_key_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SALESBOT_TEST_KEY", raising=False)
    config = ModelConfig(backend="openai_compat", model="m", api_key_env="SALESBOT_TEST_KEY")
    with pytest.raises(BackendUnavailable, match="SALESBOT_TEST_KEY"):
        registry.preflight(config)


def test_a_missing_model_name_is_invalid():
    with pytest.raises(InvalidOptions, match="LLM_MODEL"):
        registry.build(ModelConfig(backend="openai_compat"))


def test_a_misspelt_backend_option_is_invalid(wire: WireServer):
    with pytest.raises(InvalidOptions, match="respons_format"):
        build(wire, backend_options={"respons_format": "json_object"})


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_base_url_may_end_with_or_without_v1(wire: WireServer, suffix: str):
    build(wire, base_url=wire.url + suffix).complete(CHAT)
    assert wire.requests[0].path == "/v1/chat/completions"


def test_the_name_defaults_to_the_served_model(wire: WireServer):
    assert build(wire, model="mistral-7b").name == "mistral-7b"
    assert build(wire, model="mistral-7b", name="reply").name == "reply"


# -- request shape ---------------------------------------------------------------------------


def test_options_map_onto_openai_fields(wire: WireServer):
    build(wire).complete(CHAT, max_tokens=7, greedy=True, stop=["\n"], seed=3, top_p=0.5)
    body = wire.requests[0].body
    assert body["model"] == "m"
    assert body["messages"] == [{"role": "user", "content": "Hello"}]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (7, 0.0, 0.5)
    assert (body["stop"], body["seed"]) == (["\n"], 3)
    assert "top_k" not in body and "repeat_penalty" not in body


def test_include_usage_can_be_turned_off(wire: WireServer):
    build(wire, backend_options={"include_usage": False}).complete(CHAT)
    assert "stream_options" not in wire.requests[0].body


@pytest.mark.parametrize(
    ("extra_sampling", "penalty"),
    [("llama_cpp", "repeat_penalty"), ("vllm", "repetition_penalty")],
)
def test_extra_sampling_sends_top_k_and_the_servers_penalty_name(
    wire: WireServer, extra_sampling: str, penalty: str
):
    model = build(wire, backend_options={"extra_sampling": extra_sampling})
    model.complete(CHAT, top_k=12, repeat_penalty=1.3)
    body = wire.requests[0].body
    assert (body["top_k"], body[penalty]) == (12, 1.3)


BEGUN = [*CHAT, ChatMessage("assistant", "Hi! We sell")]


def test_a_begun_reply_is_continued_as_the_server_says_it_can(wire: WireServer):
    with pytest.raises(CannotContinue):  # OpenAI's API cannot: not asked
        build(wire).complete(BEGUN)
    assert wire.requests == []
    build(wire, backend_options={"continue_final_message": "prefill"}).complete(BEGUN)
    build(wire, backend_options={"continue_final_message": "vllm"}).complete(BEGUN)
    build(wire, backend_options={"continue_final_message": "vllm"}).complete(CHAT)
    prefill, vllm, new_turn = (r.body for r in wire.requests)
    # llama.cpp's server continues a final assistant message by itself; vLLM is asked.
    assert prefill["messages"][-1] == {"role": "assistant", "content": "Hi! We sell"}
    assert "continue_final_message" not in prefill
    assert vllm["continue_final_message"] is True and vllm["add_generation_prompt"] is False
    assert "continue_final_message" not in new_turn


@pytest.mark.parametrize(
    "parts",
    [
        [" dashboards", "."],  # only the new text (vLLM, older llama.cpp servers)
        ["Hi! We sell dashboards", "."],  # llama.cpp's server: the begun text sent back first
        ["Hi! We sell", " dashboards."],  # ... as a chunk of its own
        ["Hi! We", " sell", " dashboards."],  # ... in pieces
    ],
)
def test_a_continuation_is_the_new_text_whether_or_not_the_server_sends_the_begun_back(
    wire: WireServer, parts: list[str]
):
    wire.replies.append(text_reply(*parts))
    model = build(wire, backend_options={"continue_final_message": "prefill"})
    *chunks, completion = list(model.stream(BEGUN))
    assert "".join(map(str, chunks)) == completion.text == " dashboards."


def test_a_continuation_that_departs_from_the_begun_text_is_passed_on_whole(wire: WireServer):
    wire.replies.append(text_reply("Hi", "! We have", " more"))  # begins like it, then not
    model = build(wire, backend_options={"continue_final_message": "prefill"})
    assert model.complete(BEGUN).text == "Hi! We have more"
    wire.replies.append(text_reply("Hi"))  # ends while it still might have been
    assert model.complete(BEGUN).text == "Hi"


def test_a_cache_slot_is_sent_as_llama_cpps_id_slot_and_background_work_has_its_own(
    wire: WireServer,
):
    model = build(wire, backend_options={"background_slot": 3})
    model.complete(CHAT)
    model.complete(CHAT, cache_slot=1)
    with background(lambda: False):
        model.complete(CHAT)
    assert [r.body.get("id_slot") for r in wire.requests] == [None, 1, 3]
    build(wire).complete(CHAT)  # no background slot configured: the server chooses
    with background(lambda: False):
        build(wire).complete(CHAT)
    assert "id_slot" not in wire.requests[3].body and "id_slot" not in wire.requests[4].body


def test_warming_evaluates_the_prompt_only_in_a_slot_the_server_lists_as_empty(
    wire: WireServer,
):
    wire.slots = [
        {"id": 0, "n_ctx": 2048, "is_processing": False},  # never used
        {"id": 1, "n_ctx": 2048, "is_processing": False, "id_task": 7, "n_prompt_tokens": 90},
        {"id": 2, "n_ctx": 2048, "is_processing": True, "id_task": 9, "n_prompt_tokens": 0},
    ]
    model = build(wire)
    assert model.warm(CHAT, slot=0)
    assert not model.warm(CHAT, slot=1)  # a conversation's prompt stays
    assert not model.warm(CHAT, slot=2)  # a prompt is being read into it
    assert not model.warm(CHAT, slot=5)  # no such slot
    posts = [r for r in wire.requests if r.path == "/v1/chat/completions"]
    assert len(posts) == 1
    assert posts[0].body["messages"] == [{"role": "user", "content": "Hello"}]
    assert posts[0].body["id_slot"] == 0 and posts[0].body["max_tokens"] == 1
    assert [r.path for r in wire.requests if r.path != "/v1/chat/completions"] == ["/slots"] * 4


def test_warming_sends_no_prompt_to_a_server_that_does_not_list_slots(wire: WireServer):
    model = build(wire)  # wire.slots is None: 501, as llama-server --no-slots, or vLLM's 404
    assert not model.warm(CHAT, slot=0)
    assert not model.warm(CHAT)  # and without a slot, the prompt could land anywhere
    assert [r.path for r in wire.requests] == ["/slots"]


def test_structured_output_is_sent_as_json_schema_by_default(wire: WireServer):
    wire.replies.append(text_reply('{"name": ', '"Jane"}'))
    assert build(wire).extract(CHAT, Lead) == Lead(name="Jane")
    assert wire.requests[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Lead", "schema": Lead.model_json_schema(), "strict": True},
    }


def test_structured_output_can_be_sent_as_json_object_with_a_schema(wire: WireServer):
    wire.replies.append(text_reply('{"name": "Jane"}'))
    model = build(wire, backend_options={"response_format": "json_object"})
    assert model.extract(CHAT, Lead) == Lead(name="Jane")
    assert wire.requests[0].body["response_format"] == {
        "type": "json_object",
        "schema": Lead.model_json_schema(),
    }


# -- reading the stream ----------------------------------------------------------------------


def test_usage_comes_from_the_final_usage_chunk(wire: WireServer):
    usage = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    wire.replies.append(text_reply("Hi", " there", finish="length", usage=usage))
    completion = build(wire).complete(CHAT)
    assert completion.text == "Hi there"
    assert completion.finish_reason == "length"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (9, 2)


def test_prompt_tokens_the_server_reused_are_reported(wire: WireServer):
    # OpenAI's and vLLM's field, then llama.cpp server's own timings.
    usage = {
        "prompt_tokens": 90,
        "completion_tokens": 2,
        "prompt_tokens_details": {"cached_tokens": 80},
    }
    wire.replies.append(text_reply("Hi", usage=usage))
    assert build(wire).complete(CHAT).usage.cached_tokens == 80
    reply = text_reply("Hi", usage={"prompt_tokens": 90, "completion_tokens": 1})
    reply.events[-2]["timings"] = {"cache_n": 85, "prompt_n": 5}
    wire.replies.append(reply)
    assert build(wire).complete(CHAT).usage.cached_tokens == 85


def test_a_reply_stopped_at_its_sentence_limit_keeps_llama_cpps_per_chunk_counts(
    wire: WireServer,
):
    reply = text_reply("One.", " Two.", " Three.")
    for n, event in enumerate(reply.events[:3], start=1):
        event["timings"] = {"cache_n": 40, "prompt_n": 12, "predicted_n": n}
    wire.replies.append(reply)
    model = build(wire, backend_options={"timings_per_token": True})
    completion = model.complete(CHAT, max_sentences=2)
    assert wire.requests[0].body["timings_per_token"] is True
    assert (completion.text, completion.finish_reason) == ("One. Two.", "sentences")
    # The second sentence ends where the third chunk begins: three tokens were generated.
    assert completion.usage == Usage(prompt_tokens=52, completion_tokens=3, cached_tokens=40)
    # Without the server's timings, what was received is counted and the prompt is unknown.
    wire.replies.append(text_reply("One.", " Two.", " Three."))
    assert build(wire).complete(CHAT, max_sentences=2).usage == Usage(0, 3)
    assert "timings_per_token" not in wire.requests[1].body


def test_backend_options_can_come_from_the_environment(wire: WireServer):
    env = {
        "LLM_BACKEND": "openai_compat",
        "LLM_MODEL": "m",
        "LLM_BASE_URL": wire.url,
        "LLM_BACKEND_OPTIONS": '{"extra_sampling": "llama_cpp"}',
    }
    registry.build(ModelConfig.from_env(env)).complete(CHAT, top_k=12)
    assert wire.requests[0].body["top_k"] == 12
    with pytest.raises(InvalidOptions, match="LLM_BACKEND_OPTIONS is not JSON"):
        ModelConfig.from_env(env | {"LLM_BACKEND_OPTIONS": "extra_sampling=llama_cpp"})
    with pytest.raises(InvalidOptions, match="must be a JSON object"):
        ModelConfig.from_env(env | {"LLM_BACKEND_OPTIONS": '["llama_cpp"]'})
    with pytest.raises(InvalidOptions, match="accepted keys"):
        registry.build(ModelConfig.from_env(env | {"LLM_BACKEND_OPTIONS": '{"top_k": 3}'}))


def test_background_work_stops_while_the_server_sends_nothing(wire: WireServer):
    """A server reading a long prompt sends nothing to check between: a reply that wants the
    model must not wait for its first chunk."""
    stalled = text_reply("Hi", " there")
    stalled.stall_after = 0  # the headers, then nothing until released
    wire.replies.append(stalled)
    asked: list[bool] = []

    def interrupt() -> bool:  # no at the start, yes from the next question on
        asked.append(bool(asked))
        return asked[-1]

    with background(interrupt), pytest.raises(Preempted):
        build(wire).complete(CHAT)
    assert not wire.release.is_set()  # stopped before the server sent a thing
    wire.release.set()
    assert wire.disconnected.wait(10)  # and the server found the connection gone


def test_without_a_usage_chunk_completion_chunks_are_counted(wire: WireServer):
    wire.replies.append(text_reply("a", "b", "c"))
    usage = build(wire).complete(CHAT).usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (0, 3)


def test_a_stream_that_ends_before_finishing_is_a_failure(wire: WireServer):
    wire.replies.append(Reply(events=[chunk("Hi")]))
    with pytest.raises(GenerationFailed, match="ended the stream"):
        build(wire).complete(CHAT)


def test_an_error_event_mid_stream_is_a_failure_with_the_servers_message(wire: WireServer):
    wire.replies.append(Reply(events=[chunk("Hi"), {"error": {"message": "engine died"}}]))
    with pytest.raises(GenerationFailed, match="engine died"):
        build(wire).complete(CHAT)


# -- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_api_key_is_unavailable_and_names_the_variable(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, status: int
):
    monkeypatch.setenv("SALESBOT_TEST_KEY", "sk-wrong")
    error = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    wire.replies.append(Reply(status=status, body=error))
    with pytest.raises(BackendUnavailable, match="SALESBOT_TEST_KEY") as raised:
        build(wire, api_key_env="SALESBOT_TEST_KEY").complete(CHAT)
    assert "Incorrect API key provided" in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [
        {  # OpenAI and llama-cpp-python's server
            "error": {
                "message": "This model's maximum context length is 1024 tokens. However, you "
                "requested 2039 tokens (2031 in the messages, 8 in the completion).",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
        {  # vLLM
            "object": "error",
            "message": "This model's maximum context length is 4096 tokens. However, you "
            "requested 5000 tokens in the messages.",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
        {  # llama.cpp's C++ server
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
            }
        },
    ],
    ids=["openai", "vllm", "llama-server"],
)
def test_a_400_about_the_context_length_is_context_window_exceeded(
    wire: WireServer, body: dict[str, Any]
):
    wire.replies.append(Reply(status=400, body=body))
    with pytest.raises(ContextWindowExceeded, match="context"):
        build(wire).complete(CHAT)


def test_other_http_errors_fail_with_the_servers_message(wire: WireServer):
    body = {"error": {"message": "temperature out of range", "type": "invalid_request_error"}}
    wire.replies.append(Reply(status=400, body=body))
    with pytest.raises(GenerationFailed, match="HTTP 400: temperature out of range"):
        build(wire).complete(CHAT)


def test_an_unknown_model_is_unavailable(wire: WireServer):
    body = {"object": "error", "message": "The model `m` does not exist.", "code": 404}
    wire.replies.append(Reply(status=404, body=body))
    with pytest.raises(BackendUnavailable, match="does not exist"):
        build(wire).complete(CHAT)


def test_a_server_that_does_not_answer_in_time_is_a_timeout(wire: WireServer):
    wire.hang = True
    with pytest.raises(BackendTimeout):
        build(wire, timeout=0.2).complete(CHAT)


# -- against the real llama-cpp-python server ------------------------------------------------


@pytest.mark.slow
def test_the_llama_cpp_server_rejects_json_schema_which_is_why_the_engine_sends_json_object(
    openai_compat_engine: Engine,
):
    model = openai_compat_engine.model
    assert isinstance(model, OpenAICompatLLM)
    base_url = model.url.removesuffix("/v1/chat/completions")
    default_format = registry.build(server_config(base_url, backend_options={}))
    with pytest.raises(GenerationFailed, match="json_object"):
        default_format.extract(CHAT, Lead, max_tokens=8, attempts=1)


@pytest.mark.slow
def test_the_real_server_streams_with_llama_cpp_sampling_fields(openai_compat_engine: Engine):
    completion = openai_compat_engine.model.complete(
        [ChatMessage("user", "Name one colour.")], max_tokens=6, top_k=1, repeat_penalty=1.3
    )
    assert completion.text.strip()
    assert 1 <= completion.usage.completion_tokens <= 6


@pytest.mark.slow
def test_a_prompt_beyond_the_servers_own_window_fails_clearly(openai_compat_engine: Engine):
    # Configured with a bigger window than the server has, trimming cannot help: the
    # llama-cpp-python server then ends its stream without a reply.
    model = openai_compat_engine.model
    assert isinstance(model, OpenAICompatLLM)
    base_url = model.url.removesuffix("/v1/chat/completions")
    oversized = registry.build(server_config(base_url, n_ctx=8192))
    with pytest.raises(GenerationFailed, match="context window"):
        oversized.complete([ChatMessage("user", "word " * 1500)], max_tokens=8)
