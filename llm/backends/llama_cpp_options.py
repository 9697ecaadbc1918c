"""The llama_cpp backend's `backend_options`, apart from the backend: llama-server
(llm/llama_server.py) reads them too, and importing the backend sets the OpenMP spin of every
process started after it (`GOMP_SPINCOUNT`), which the one model process must not inherit."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from llm.config import ModelConfig, parse_backend_options


class LlamaCppOptions(BaseModel):
    """`backend_options` of the llama_cpp backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt_cache_mb: int = Field(
        256,
        ge=0,
        description="RAM for saved context states, so a conversation's evaluated prompt is "
        "reused when its next turn comes, even after other conversations ran in between (0: "
        "only the conversation the context holds is reused).",
    )
    flash_attn: bool | None = Field(
        None,
        description="llama.cpp's flash attention. Unset: off on the CPU, where its kernels "
        "decoded 12-20% slower than the plain ones (docs/benchmarks.md); with layers offloaded "
        "to a GPU, llama.cpp's own choice (on where the device supports it).",
    )


def llama_cpp_options(config: ModelConfig) -> LlamaCppOptions:
    return parse_backend_options("llama_cpp", config.backend_options, LlamaCppOptions)


FlashAttention = Literal["on", "off", "auto"]


def flash_attention(config: ModelConfig) -> FlashAttention:
    """Flash attention for `config`'s model, as llama-server's `--flash-attn` takes it
    (llama-cpp-python takes on or off: "auto" is on there)."""
    chosen = llama_cpp_options(config).flash_attn
    if chosen is not None:
        return "on" if chosen else "off"
    return "off" if config.n_gpu_layers == 0 else "auto"
