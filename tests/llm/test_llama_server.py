"""llama.cpp's own server (`make llama-server`) on the bundled model, through openai_compat."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from llm import BackendUnavailable, ChatMessage, Completion, InvalidOptions, ModelConfig, registry
from llm.backends.openai_compat import OpenAICompatLLM
from llm.llama_server import LlamaServer
from salesbot.stack import model_server, wait_http_ok
from tests.e2e.conftest import free_port

MODEL = Path(__file__).resolve().parents[2] / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


@contextmanager
def _running(slots: int) -> Iterator[LlamaServer]:
    running = LlamaServer(model_path=MODEL, port=free_port(), slots=slots, n_ctx=1024)
    if not running.binary.is_file():
        message = f"no llama-server at {running.binary}: run `make llama-server`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    process = subprocess.Popen(
        running.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_http_ok(running.base_url.removesuffix("/v1") + "/health", 60, process, "llama-server")
        yield running
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    with _running(slots=3) as running:
        yield running


def _client(server: LlamaServer) -> OpenAICompatLLM:
    """The model as the stack's workers build it: from the environment the server gives them."""
    env = server.worker_env() | {"LLM_MAX_NEW_TOKENS": "48", "LLM_TEMPERATURE": "0"}
    model = registry.build(ModelConfig.from_env(env))
    assert isinstance(model, OpenAICompatLLM)
    return model


@pytest.mark.slow
def test_concurrent_conversations_each_get_their_own_complete_reply(server: LlamaServer):
    model = _client(server)
    fruits = ["apples", "bananas", "cherries"]
    got: dict[str, tuple[str, Completion, float, float]] = {}

    def converse(fruit: str) -> None:
        chat = [ChatMessage("user", f"Write a long poem about {fruit}.")]
        chunks, completion, first = [], None, 0.0
        for item in model.stream(chat):
            if isinstance(item, Completion):
                completion = item
            else:
                first = first or time.monotonic()
                chunks.append(item)
        assert completion is not None
        got[fruit] = ("".join(chunks), completion, first, time.monotonic())

    threads = [threading.Thread(target=converse, args=(fruit,)) for fruit in fruits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(got) == fruits
    for text, completion, _, _ in got.values():
        assert text and text == completion.text and completion.finish_reason in ("stop", "length")
        assert completion.usage.completion_tokens > 0
    # Decoded together, not one after another: each had begun before any had finished.
    assert max(first for *_, first, _ in got.values()) < min(end for *_, end in got.values())


@pytest.mark.slow
def test_a_conversations_next_turn_reuses_the_servers_evaluated_prompt(server: LlamaServer):
    model = _client(server)
    system = ChatMessage("system", "You are the sales assistant of Acme Logistics. " * 8)
    first_turn = [system, ChatMessage("user", "Do you ship to Spain?")]
    first = model.complete(first_turn)
    second = model.complete(
        [*first_turn, ChatMessage("assistant", first.text), ChatMessage("user", "And Italy?")]
    )
    assert second.usage.cached_tokens >= first.usage.prompt_tokens, second.usage


@pytest.mark.slow
def test_two_conversations_taking_turns_each_keep_their_prompt_in_their_own_slot(
    server: LlamaServer,
):
    """Left to choose, the server gives a new conversation the slot of the one that shares its
    system prompt, and each then reads its whole conversation again every turn; kept to a slot
    (`cache_slot`), each reads only what is new."""
    model = _client(server)
    system = ChatMessage("system", "You are the sales assistant of Acme Logistics. " * 8)
    chats = {0: [system], 1: [system]}
    last: dict[int, int] = {}
    for turn in range(3):
        for slot, chat in chats.items():
            chat.append(ChatMessage("user", f"Visitor {slot}, question {turn}: do you ship?"))
            reply = model.complete(chat, max_tokens=16, cache_slot=slot)
            if turn:  # everything up to this turn's message was kept
                assert reply.usage.cached_tokens >= last[slot], (slot, turn, reply.usage)
            last[slot] = reply.usage.prompt_tokens
            chat.append(ChatMessage("assistant", reply.text))


@pytest.mark.slow
def test_a_sites_system_prompt_warmed_into_the_empty_slots_is_not_read_again():
    """A slot the server has not used yet starts from nothing; warmed at start with the Site's
    system prompt, it gives a new conversation only its own first message to read."""
    system = [ChatMessage("system", "You are the sales assistant of Acme Logistics. " * 8)]
    with _running(slots=2) as fresh:
        model = _client(fresh)
        assert model.warm(system, slot=0) and model.warm(system, slot=1)
        assert not model.warm([ChatMessage("system", "Another Site.")], slot=1)  # holds one
        for slot in (0, 1):
            chat = [*system, ChatMessage("user", "Ship to Spain?")]
            first = model.complete(chat, cache_slot=slot)
            new = first.usage.prompt_tokens - first.usage.cached_tokens
            assert new <= 16 < first.usage.prompt_tokens, (slot, first.usage)


@pytest.mark.slow
def test_a_reply_stopped_at_its_sentence_limit_still_has_the_servers_counts(server: LlamaServer):
    model = _client(server)
    chat = [ChatMessage("user", "Describe the sea in ten sentences.")]
    whole = model.complete(chat, max_tokens=120)
    stopped = model.complete(chat, max_tokens=120, max_sentences=1)
    assert stopped.finish_reason == "sentences", stopped
    # What the server counted, not a guess: the same prompt, now taken from its cache.
    assert stopped.usage.prompt_tokens == whole.usage.prompt_tokens > 0, stopped.usage
    assert stopped.usage.cached_tokens > 0
    assert 0 < stopped.usage.completion_tokens <= whole.usage.completion_tokens


@pytest.mark.slow
def test_the_server_continues_a_reply_begun_elsewhere_from_its_last_word(server: LlamaServer):
    """The stack's server, as a chain's next model: the begun reply, prefilled, is continued
    as the server itself would have gone on (greedy), not answered by a new reply."""
    model = _client(server)
    assert model.can_continue
    chat = [ChatMessage("user", "List five fruits, separated by commas.")]
    *chunks, whole = list(model.stream(chat, greedy=True, max_tokens=24, cache_slot=0))
    assert isinstance(whole, Completion)
    cut = next(i for i in range(3, len(chunks)) if chunks[i][:1].isspace())
    begun = "".join(chunks[:cut])
    rest = model.complete(
        [*chat, ChatMessage("assistant", begun)], greedy=True, max_tokens=24 - cut, cache_slot=1
    )
    assert begun + rest.text == whole.text


def test_the_server_is_started_with_a_slot_per_conversation_and_context_for_each():
    server = LlamaServer(model_path=MODEL, port=8090, slots=4, n_ctx=2048, n_gpu_layers=-1)
    command = server.command()
    # Four conversations, and the extraction beside them in a slot of its own.
    assert command[command.index("--parallel") + 1] == "5"
    assert command[command.index("--ctx-size") + 1] == str(5 * 2048)
    assert command[command.index("--n-gpu-layers") + 1] == "-1"
    assert command[command.index("--cache-ram") + 1] == "256"
    config = ModelConfig(model_path=MODEL, backend_options={"prompt_cache_mb": 64})
    served = LlamaServer.from_config(config, port=1, slots=2).command()
    assert served[served.index("--cache-ram") + 1] == "64"
    assert server.worker_env()["LLM_BASE_URL"] == "http://127.0.0.1:8090/v1"


@pytest.mark.parametrize(
    ("gpu_layers", "option", "flag"),
    [(0, None, "off"), (-1, None, "auto"), (20, None, "auto"), (0, True, "on"), (-1, False, "off")],
)
def test_flash_attention_is_off_on_the_cpu_and_the_servers_choice_with_gpu_layers(
    gpu_layers: int, option: bool | None, flag: str
):
    options = {} if option is None else {"flash_attn": option}
    config = ModelConfig(model_path=MODEL, n_gpu_layers=gpu_layers, backend_options=options)
    command = LlamaServer.from_config(config, port=1, slots=2).command()
    # Always given: the server's own default (auto) turns it on on the CPU too.
    assert command[command.index("--flash-attn") + 1] == flag


def test_bad_server_settings_are_refused_with_what_to_do(tmp_path: Path):
    with pytest.raises(InvalidOptions, match="1 to 64"):
        LlamaServer(model_path=MODEL, port=1, slots=0)
    with pytest.raises(BackendUnavailable, match="make llama-server"):
        LlamaServer(model_path=MODEL, port=1, binary=tmp_path / "nothing").check()
    with pytest.raises(BackendUnavailable, match="GGML_CUDA"):  # this machine's build is CPU-only
        LlamaServer(model_path=MODEL, port=1, n_gpu_layers=-1, binary=MODEL).check()
    with pytest.raises(InvalidOptions, match="GGUF"):
        LlamaServer.from_config(ModelConfig(backend="ollama", model="mistral"), port=1, slots=2)


def test_the_stack_serves_a_gguf_model_from_llama_server_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("LLAMA_SERVER_BIN", str(MODEL))  # a file: check() looks no further
    gguf = {"LLM_MODEL_PATH": str(MODEL)}  # config/llm.yaml's default model, this file
    for env in [gguf, gguf | {"LLM_SERVER": "auto"}, gguf | {"LLM_SERVER": "llama-server"}]:
        served = model_server(env | {"LLM_SERVER_SLOTS": "2"}, 8090)
        assert served is not None and served.slots == 2 and served.model_path == MODEL
    assert model_server(gguf | {"LLM_SERVER": "none"}, 8090) is None
    # What the server would run otherwise than the workers is left to them, unless forced.
    remote = gguf | {"LLM_BACKEND": "ollama", "LLM_MODEL": "mistral"}
    assert model_server(remote, 8090) is None
    assert model_server(gguf | {"LLM_CHAT_FORMAT": "chatml"}, 8090) is None
    with pytest.raises(RuntimeError, match="GGUF file; the model is ollama"):
        model_server(remote | {"LLM_SERVER": "llama-server"}, 8090)
    with pytest.raises(RuntimeError, match="unset LLM_CHAT_FORMAT"):
        model_server(gguf | {"LLM_CHAT_FORMAT": "chatml", "LLM_SERVER": "llama-server"}, 8090)
    with pytest.raises(RuntimeError, match="use auto"):
        model_server(gguf | {"LLM_SERVER": "vllm"}, 8090)
    monkeypatch.setenv("LLAMA_SERVER_BIN", str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="LLM_SERVER=none"):
        model_server(gguf, 8090)


def test_the_model_server_does_not_inherit_the_workers_openmp_spin(tmp_path: Path):
    """The llama_cpp backend shortens the OpenMP spin for two model processes on the same
    cores; the one model process keeps libgomp's default, so the stack must not import it."""
    script = (
        "import os, sys; from salesbot.stack import model_server; "
        f"model_server({{'LLM_MODEL_PATH': {str(MODEL)!r}}}, 1); "
        "print(os.environ.get('GOMP_SPINCOUNT'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    env["LLAMA_SERVER_BIN"] = str(MODEL)  # a file: check() looks no further
    ran = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert ran.stdout.strip() == "None"
