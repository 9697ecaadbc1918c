"""What a configured model does on this machine: load time, memory, prefill and decode speed,
the first token cold and on a conversation's second turn, the cost of schema-constrained
decoding; and, measured in the same run, the machine's memory read bandwidth and the decode
ceiling it implies (every weight is read once per generated token: file bytes ÷ bandwidth).

Through `BaseLLM` only, so it measures any backend; `manage.py llm_bench` and
`python -m llm bench` print it. Nothing here asserts a timing: the numbers are for people.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llm.base import BaseLLM
from llm.config import ModelConfig
from llm.registry import build
from llm.types import ChatMessage, Completion

Progress = Callable[[str], None]

# Said once per measurement: text the model reads (prefill) or writes (decode).
_FILLER = (
    "Acme Analytics sells dashboards for sales teams. Each seat costs a monthly fee, and "
    "larger teams get a discount. The product connects to the common CRMs and shows pipeline, "
    "forecast and activity per rep. Support answers within a business day. "
)
_DECODE_ASK = "Count from 1 to 1000, one number per line, and write nothing else."
# A schema that lets the model write for as long as it is allowed to.
_SCHEMA = {
    "type": "object",
    "properties": {"numbers": {"type": "array", "items": {"type": "integer"}}},
    "required": ["numbers"],
}


@dataclass(frozen=True)
class MachineReport:
    cores: int
    memory_read_gb_s: float


@dataclass(frozen=True)
class ModelReport:
    """One model's figures; None where the backend cannot tell (a server's memory, file size)."""

    name: str
    backend: str
    load_s: float
    rss_mb: float | None
    weights_mb: float | None
    prompt_tokens: int
    prefill_tok_s: float | None
    cold_first_token_s: float | None
    decode_tok_s: float | None
    decode_tokens: int
    second_turn_first_token_s: float | None
    second_turn_vs_cold: float | None
    schema_decode_tok_s: float | None
    schema_vs_plain: float | None
    decode_ceiling_tok_s: float | None
    decode_vs_ceiling: float | None


def memory_read_bandwidth(*, megabytes: int = 512, repeats: int = 5) -> float:
    """Bytes per second this machine reads from memory, every core reading its own part of an
    array larger than any cache (the best of `repeats`)."""
    cores = os.cpu_count() or 1
    values = np.ones(megabytes * (1 << 20) // 8, dtype=np.float64)
    parts = np.array_split(values, cores)
    best = float("inf")
    with ThreadPoolExecutor(max_workers=cores) as pool:
        for _ in range(repeats):
            started = time.perf_counter()
            # numpy's reduction releases the GIL: the cores read in parallel.
            list(pool.map(np.sum, parts))
            best = min(best, time.perf_counter() - started)
    return float(values.nbytes / best)


def machine_report(*, megabytes: int = 512) -> MachineReport:
    return MachineReport(
        cores=os.cpu_count() or 1,
        memory_read_gb_s=round(memory_read_bandwidth(megabytes=megabytes) / 1e9, 2),
    )


def _rss_bytes() -> int | None:
    """This process's resident memory now (Linux), else its peak."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak * (1 if sys.platform == "darwin" else 1024)) or None


def _filler(model: BaseLLM, tokens: int) -> str:
    text = _FILLER
    while model.count_tokens(text) < tokens:
        text += _FILLER
    return text


def _stream(model: BaseLLM, chat: list[ChatMessage], **options: Any) -> Completion:
    completion = None
    for item in model.stream(chat, **options):
        if isinstance(item, Completion):
            completion = item
    assert completion is not None  # BaseLLM.stream always ends with one
    return completion


def _decode_rate(completion: Completion) -> float | None:
    """Tokens per second after the first: the first token's time is prefill's."""
    first = completion.timings.time_to_first_token
    tokens = completion.usage.completion_tokens
    if first is None or tokens < 2 or completion.timings.total <= first:
        return None
    return (tokens - 1) / (completion.timings.total - first)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return round(value, digits) if value is not None else None


def model_report(
    config: ModelConfig,
    *,
    machine: MachineReport,
    prompt_tokens: int = 512,
    decode_tokens: int = 128,
    progress: Progress = lambda step: None,
) -> ModelReport:
    """Build the model `config` describes (freshly, not the process's shared one) and measure."""
    before = _rss_bytes()
    progress("loading")
    started = time.perf_counter()
    model = build(config)
    load_s = time.perf_counter() - started
    try:
        # A first short call pages the weights in and sizes the buffers, as a worker's first
        # reply does once: "cold" below is a prompt nothing was evaluated for, in a warm process.
        progress("warming up")
        _stream(model, [ChatMessage("user", f"Warm-up {uuid.uuid4().hex}")], max_tokens=2)
        # A new nonce first: no earlier run's evaluated prefix can be reused for the cold turn.
        nonce = f"Session {uuid.uuid4().hex}."
        system = ChatMessage("system", f"{nonce} You are a helpful assistant.")
        progress("prefill and a cold first token")
        first_ask = ChatMessage("user", _filler(model, prompt_tokens) + "\n\n" + _DECODE_ASK)
        cold = _stream(model, [system, first_ask], max_tokens=decode_tokens, greedy=True)
        progress("decode")
        # The same conversation's next turn: its prefix (and the reply) was just evaluated.
        second = [
            system,
            first_ask,
            ChatMessage("assistant", cold.text),
            ChatMessage("user", "Thank you. " + _DECODE_ASK),
        ]
        progress("a second turn's first token")
        warm = _stream(model, second, max_tokens=decode_tokens, greedy=True)
        schema_rate = None
        if model.supports_schema:
            progress("schema-constrained decoding")
            constrained = model._complete(  # the extract() path, with its Completion
                [system, ChatMessage("user", _DECODE_ASK + " Answer as JSON.")],
                model.options(max_tokens=decode_tokens, greedy=True),
                _SCHEMA,
            )
            schema_rate = _decode_rate(constrained)
        after = _rss_bytes()
    finally:
        model.close()
    cold_first = cold.timings.time_to_first_token
    decode = _decode_rate(cold)
    warm_decode = _decode_rate(warm)
    # The better of the two turns' decode: both decode the same count, one may have been slowed.
    decode = max(filter(None, (decode, warm_decode)), default=None)
    weights = _weights_bytes(config)
    ceiling = machine.memory_read_gb_s * 1e9 / weights if weights else None
    return ModelReport(
        name=config.name,
        backend=config.backend,
        load_s=round(load_s, 2),
        rss_mb=round((after - before) / 2**20, 1)
        if after is not None and before is not None
        else None,
        weights_mb=round(weights / 2**20, 1) if weights else None,
        prompt_tokens=cold.usage.prompt_tokens,
        prefill_tok_s=_round(cold.usage.prompt_tokens / cold_first if cold_first else None, 1),
        cold_first_token_s=_round(cold_first, 3),
        decode_tok_s=_round(decode, 1),
        decode_tokens=cold.usage.completion_tokens,
        second_turn_first_token_s=_round(warm.timings.time_to_first_token, 3),
        second_turn_vs_cold=_ratio(warm.timings.time_to_first_token, cold_first),
        schema_decode_tok_s=_round(schema_rate, 1),
        schema_vs_plain=_ratio(schema_rate, decode),
        decode_ceiling_tok_s=_round(ceiling, 1),
        decode_vs_ceiling=_ratio(decode, ceiling),
    )


def _weights_bytes(config: ModelConfig) -> int | None:
    """The bytes read per generated token by a local file backend: the weights file's size."""
    if config.backend not in ("llama_cpp", "ctransformers"):
        return None  # a server's weights are elsewhere; transformers' dtype is not the file's
    try:
        return config.resolved_model_path().stat().st_size
    except OSError:
        return None


def report_dicts(machine: MachineReport, models: list[ModelReport]) -> dict[str, Any]:
    return {"machine": asdict(machine), "models": [asdict(m) for m in models]}


def table(machine: MachineReport, models: list[ModelReport]) -> str:
    """The reports as a text table, one column a model."""
    rows: list[tuple[str, Callable[[ModelReport], object]]] = [
        ("backend", lambda m: m.backend),
        ("load (s)", lambda m: m.load_s),
        ("memory added (MB)", lambda m: m.rss_mb),
        ("weights (MB)", lambda m: m.weights_mb),
        ("prompt tokens", lambda m: m.prompt_tokens),
        ("prefill (tok/s)", lambda m: m.prefill_tok_s),
        ("first token, cold (s)", lambda m: m.cold_first_token_s),
        ("decode (tok/s)", lambda m: m.decode_tok_s),
        ("first token, 2nd turn (s)", lambda m: m.second_turn_first_token_s),
        ("  2nd turn / cold", lambda m: m.second_turn_vs_cold),
        ("decode under a schema (tok/s)", lambda m: m.schema_decode_tok_s),
        ("  schema / plain", lambda m: m.schema_vs_plain),
        ("decode ceiling (tok/s)", lambda m: m.decode_ceiling_tok_s),
        ("  decode / ceiling", lambda m: m.decode_vs_ceiling),
    ]
    width = max(14, *(len(m.name) for m in models)) if models else 14
    lines = [
        f"machine: {machine.cores} cores, memory read {machine.memory_read_gb_s} GB/s",
        f"{'':<30}" + "".join(f"{m.name:>{width + 2}}" for m in models),
    ]
    for label, value in rows:
        cells = "".join(
            f"{('-' if value(m) is None else str(value(m))):>{width + 2}}" for m in models
        )
        lines.append(f"{label:<30}{cells}")
    return "\n".join(lines)


def stderr_progress(total: int) -> Callable[[int, str], Progress]:
    """A progress line on stderr: `[model k/total] step`."""

    def for_model(index: int, name: str) -> Progress:
        def step(what: str) -> None:
            print(f"\r[{index}/{total}] {name}: {what}…\033[K", end="", file=sys.stderr, flush=True)

        return step

    return for_model
