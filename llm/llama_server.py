"""llama.cpp's own HTTP server for the model: several conversations decoded together.

One llama-cpp-python process decodes one sequence at a time, so a fourth visitor waits behind
three. llama.cpp's server keeps `slots` sequences and decodes them in one batch (continuous
batching): where decoding is bound by reading the weights (a 7B model on a CPU, any model on a
GPU), one batch reads them once for all its sequences; a tiny model on few cores is bound by
arithmetic instead, and gains little (docs/benchmarks.md). Each slot keeps its conversation's
evaluated prompt, and a request goes to the slot whose prompt it shares most.

`make` builds it from the llama.cpp source that llama-cpp-python vendors (the same version, and
the same `LLAMA_CMAKE_ARGS`: a CUDA build offloads here too) into `.venv/bin/llama-server`.
`salesbot.stack` starts it for a GGUF model unless `LLM_SERVER=none`; the workers then reach it
through the `openai_compat` backend.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import llama_cpp

from llm.backends.llama_cpp_options import FlashAttention, flash_attention, llama_cpp_options
from llm.config import ModelConfig
from llm.errors import BackendUnavailable, InvalidOptions, ModelNotFound


def server_binary() -> Path:
    """`LLAMA_SERVER_BIN`, else the one `make` installs beside this Python."""
    configured = os.environ.get("LLAMA_SERVER_BIN")
    return Path(configured) if configured else Path(sys.executable).parent / "llama-server"


@dataclass(frozen=True)
class LlamaServer:
    """How to start llama.cpp's server for one GGUF model."""

    model_path: Path
    port: int
    host: str = "127.0.0.1"
    slots: int = 3  # conversations decoded together: one per replies' worker process
    # Beside them, one for the extraction worker: otherwise its request takes a conversation's
    # slot, and that conversation's next turn finds its evaluated prompt gone (measured with
    # three visitors at once: turns that reused only the system prompt).
    background_slots: int = 1
    n_ctx: int = 4096  # per slot
    threads: int | None = None
    n_gpu_layers: int = 0
    # Host RAM for evaluated prompts of idle slots (llama.cpp's own prompt cache): the
    # llama_cpp backend's `prompt_cache_mb`, for the same reason, instead of the server's 8 GiB.
    prompt_cache_mb: int = 256
    flash_attn: FlashAttention = "off"  # as the llama_cpp backend decides it (flash_attention)
    binary: Path = field(default_factory=server_binary)

    def __post_init__(self) -> None:
        if not 1 <= self.slots <= 64:
            raise InvalidOptions(f"LLM_SERVER_SLOTS={self.slots}: use 1 to 64 parallel slots")
        if self.n_ctx < 256:
            raise InvalidOptions(f"a context of {self.n_ctx} tokens per slot is too small")

    @classmethod
    def from_config(cls, config: ModelConfig, *, port: int, slots: int) -> LlamaServer:
        if config.backend != "llama_cpp":
            raise InvalidOptions(
                f"LLM_SERVER=llama-server serves a GGUF file; the model is {config.backend}"
            )
        if config.chat_format:
            raise InvalidOptions(
                f"llama-server uses the GGUF's own chat template, not chat_format="
                f"{config.chat_format!r}: unset LLM_CHAT_FORMAT, or set LLM_SERVER=none"
            )
        return cls(
            model_path=config.resolved_model_path(),
            port=port,
            slots=slots,
            n_ctx=config.n_ctx,
            threads=config.n_threads,
            n_gpu_layers=config.n_gpu_layers,
            prompt_cache_mb=llama_cpp_options(config).prompt_cache_mb,
            flash_attn=flash_attention(config),
        )

    @property
    def alias(self) -> str:
        """The model's name on the server (and the workers' `LLM_MODEL`)."""
        return self.model_path.stem

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def check(self) -> None:
        """Raise, naming the fix, if the server or the model file is missing."""
        if not self.binary.is_file():
            raise BackendUnavailable(
                f"llama-server not found at {self.binary}: run `make llama-server` (it builds "
                "llama.cpp's server once, ~10 minutes), set LLAMA_SERVER_BIN, or set "
                "LLM_SERVER=none to have each worker load the model itself"
            )
        if not self.model_path.is_file():
            raise ModelNotFound(f"model file not found: {self.model_path}")
        # The server is built from the same source and flags as llama-cpp-python's library, so
        # the library answers for it: a CPU-only build would ignore the layers without a word.
        if self.n_gpu_layers != 0 and not llama_cpp.llama_supports_gpu_offload():
            raise BackendUnavailable(
                f"LLM_GPU_LAYERS={self.n_gpu_layers} asks for GPU offload, but llama.cpp was "
                "built for the CPU only; build it with CUDA (make run LLAMA_CMAKE_ARGS="
                "'-DGGML_CUDA=on', docs/deployment.md) or set "
                "LLM_GPU_LAYERS=0"
            )

    def command(self) -> list[str]:
        command = [
            str(self.binary),
            "--model", str(self.model_path),
            "--alias", self.alias,
            "--host", self.host,
            "--port", str(self.port),
            "--parallel", str(self.slots + self.background_slots),
            # The context is shared out among the slots: each gets n_ctx.
            "--ctx-size", str(self.n_ctx * (self.slots + self.background_slots)),
            "--cont-batching",
            "--cache-ram", str(self.prompt_cache_mb),
            "--n-gpu-layers", str(self.n_gpu_layers),
            # Not left to the server's `auto` on the CPU, where it turns flash attention on
            # and the plain kernels decode faster, as the workers' own llama.cpp runs them.
            "--flash-attn", self.flash_attn,
        ]  # fmt: skip
        if self.threads:
            command += ["--threads", str(self.threads)]
        return command

    def worker_env(self) -> dict[str, str]:
        """What the workers' model settings become: the server, through `openai_compat`."""
        return {
            "LLM_BACKEND": "openai_compat",
            "LLM_BASE_URL": self.base_url,
            "LLM_MODEL": self.alias,
            "LLM_NAME": self.alias,
            "LLM_MODEL_PATH": "",
            # The sampling llama-cpp-python would use (top_k, repeat_penalty), counts on every
            # chunk for replies stopped at their sentence limit, background work (the
            # extraction) in its own slot, after the conversations', and a reply another
            # model began continued (the server prefills a final assistant message).
            "LLM_BACKEND_OPTIONS": json.dumps(
                {
                    "extra_sampling": "llama_cpp",
                    "timings_per_token": True,
                    "background_slot": self.slots,
                    "continue_final_message": "prefill",
                }
            ),
        }
