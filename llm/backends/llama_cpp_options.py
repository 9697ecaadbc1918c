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


def llama_cpp_options(config: ModelConfig) -> LlamaCppOptions:
    return parse_backend_options("llama_cpp", config.backend_options, LlamaCppOptions)
