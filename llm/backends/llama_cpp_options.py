"""The llama_cpp backend's `backend_options`, apart from the backend: llama-server
(llm/llama_server.py) reads them too, and importing the backend sets the OpenMP spin of every
process started after it (`GOMP_SPINCOUNT`), which the one model process must not inherit."""

from __future__ import annotations

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
        description="llama.cpp's flash attention. Unset: on when layers are offloaded to a GPU "
        "(faster there, and the KV cache takes less memory), off on the CPU, where its kernels "
        "decoded 12-20% slower than the plain ones (docs/benchmarks.md).",
    )


def llama_cpp_options(config: ModelConfig) -> LlamaCppOptions:
    return parse_backend_options("llama_cpp", config.backend_options, LlamaCppOptions)


def flash_attention(config: ModelConfig) -> bool:
    """Whether llama.cpp runs `config`'s model with flash attention (`flash_attn`)."""
    chosen = llama_cpp_options(config).flash_attn
    return chosen if chosen is not None else config.n_gpu_layers != 0
