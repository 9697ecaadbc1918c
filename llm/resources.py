"""The resource manager: what a model needs in memory, and a worker's budget for its models.

A GGUF model's need is read from the file before it is loaded: its tensors' bytes (the weights)
plus the KV cache its context takes (2 x layers x context x KV heads x head size, in f16) and
the logits of a batch; with GPU layers, the offloaded share of both goes to VRAM. A model run
by a server (ollama, openai_compat) needs nothing here. `MemoryBudget` admits models into a
worker's budget (`resources: {ram_mb, vram_mb}` in config/llm.yaml), unloading the least
recently used ones when a new one must fit, and refuses one that cannot fit even alone, naming
the numbers.
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from llm.config import ModelConfig
from llm.errors import ModelNotFound, ResourceExhausted

logger = logging.getLogger(__name__)

MB = 1 << 20
_GGUF_BACKENDS = {"llama_cpp", "ctransformers"}


class ResourceSettings(BaseModel):
    """`resources:` in config/llm.yaml: what one worker process may give its models."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ram_mb: int | None = Field(None, ge=1, description="RAM for models; unset: no limit.")
    vram_mb: int | None = Field(None, ge=1, description="GPU memory; unset: no limit.")


@dataclass(frozen=True)
class MemoryEstimate:
    ram: int  # bytes
    vram: int
    detail: str  # how it adds up, for messages

    def __str__(self) -> str:
        return (
            f"{self.ram / MB:,.0f} MB of RAM and {self.vram / MB:,.0f} MB of VRAM ({self.detail})"
        )


@functools.lru_cache(maxsize=32)
def _gguf_facts(path: Path, size: int, mtime: int) -> tuple[int, int, int, int, int, int]:
    """Weights' bytes, layers, embedding size, heads, KV heads and vocabulary of a GGUF
    (`size`, `mtime`: the cache's key for a file that changed)."""
    gguf = importlib.import_module("gguf")
    reader = gguf.GGUFReader(str(path))

    def value(key: str, default: int = 0) -> int:
        field = reader.fields.get(key)
        return default if field is None else int(field.parts[field.data[0]][0])

    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    heads = value(f"{arch}.attention.head_count", 1)
    vocab = reader.fields.get("tokenizer.ggml.tokens")
    return (
        sum(int(t.n_bytes) for t in reader.tensors),
        value(f"{arch}.block_count", 1),
        value(f"{arch}.embedding_length"),
        heads,
        value(f"{arch}.attention.head_count_kv", heads),
        len(vocab.data) if vocab is not None else 0,
    )


def estimate(config: ModelConfig) -> MemoryEstimate:
    """What `config`'s model takes in this process's memory once loaded."""
    if config.backend not in _GGUF_BACKENDS:
        return MemoryEstimate(0, 0, f"{config.backend}: served elsewhere or not estimated")
    path = config.resolved_model_path()
    try:
        stat = path.stat()
    except OSError as exc:
        raise ModelNotFound(f"model file not found: {path} ({exc})") from exc
    try:
        weights, layers, embd, heads, kv_heads, vocab = _gguf_facts(
            path, stat.st_size, stat.st_mtime_ns
        )
    except Exception as exc:  # not a GGUF the reader knows: its size is the best guess
        logger.warning("cannot read %s as GGUF (%s); its size stands for its need", path, exc)
        return MemoryEstimate(stat.st_size, 0, f"{path.name}: file size, not read as GGUF")
    head_dim = embd // max(heads, 1)
    kv = 2 * layers * config.n_ctx * kv_heads * head_dim * 2  # K and V, f16
    logits = config.n_batch * vocab * 4
    offloaded = layers if config.n_gpu_layers < 0 else min(config.n_gpu_layers, layers)
    share = offloaded / max(layers, 1)
    vram = int((weights + kv) * share)
    detail = (
        f"weights {weights / MB:,.0f} MB, context {config.n_ctx} tokens {kv / MB:,.0f} MB, "
        f"logits {logits / MB:,.0f} MB, {offloaded} of {layers} layers on the GPU"
    )
    return MemoryEstimate(weights + kv + logits - vram, vram, detail)


@dataclass
class _Resident:
    name: str
    need: MemoryEstimate
    unload: Callable[[], None]
    busy: Callable[[], bool]  # answering a call now: never unloaded then
    used: float


class MemoryBudget:
    """The models loaded in one process, within its RAM and VRAM budgets."""

    def __init__(self, settings: ResourceSettings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._clock = clock
        self._residents: dict[str, _Resident] = {}
        self._lock = threading.Lock()

    def in_use(self) -> tuple[int, int]:
        ram = sum(r.need.ram for r in self._residents.values())
        return ram, sum(r.need.vram for r in self._residents.values())

    def used(self, key: str) -> None:
        """`key`'s model was just called: it is the last to be unloaded."""
        with self._lock:
            if key in self._residents:
                self._residents[key].used = self._clock()

    def forget(self, key: str) -> None:
        with self._lock:
            self._residents.pop(key, None)

    def _fits(self, need: MemoryEstimate, ram: int, vram: int) -> bool:
        ram_mb, vram_mb = self.settings.ram_mb, self.settings.vram_mb
        return (ram_mb is None or ram + need.ram <= ram_mb * MB) and (
            vram_mb is None or vram + need.vram <= vram_mb * MB
        )

    def admit(
        self,
        key: str,
        name: str,
        need: MemoryEstimate,
        unload: Callable[[], None],
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        """Make room for `name` (unloading the least recently used models that no call is
        using), then count it in; `ResourceExhausted` when it cannot fit even alone, or not
        beside the models in use."""
        if not self._fits(need, 0, 0):
            raise ResourceExhausted(
                f"model {name} needs {need}, more than this worker's budget of "
                f"{self.settings.ram_mb or '∞'} MB of RAM and {self.settings.vram_mb or '∞'} MB "
                "of VRAM (resources: in config/llm.yaml); raise the budget, or give the model "
                "a smaller context (n_ctx) or more GPU layers"
            )
        with self._lock:
            self._residents.pop(key, None)  # `key` itself, unloaded meanwhile, is counted anew
            evicted = []
            while not self._fits(need, *self.in_use()):
                idle = [(k, r) for k, r in self._residents.items() if not r.busy()]
                if not idle:
                    using = ", ".join(f"{r.name} ({r.need})" for r in self._residents.values())
                    raise ResourceExhausted(
                        f"model {name} needs {need}, and the models answering calls now take "
                        f"the rest of the budget: {using}; raise resources: in "
                        "config/llm.yaml (an ensemble's models answer at once)"
                    )
                oldest_key, oldest = min(idle, key=lambda kr: kr[1].used)
                del self._residents[oldest_key]
                evicted.append(oldest)
            self._residents[key] = _Resident(name, need, unload, busy, self._clock())
        for resident in evicted:
            logger.warning(
                "unloading model %s (%s) to make room for %s", resident.name, resident.need, name
            )
            resident.unload()
