"""Model configuration: what to load and how, validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from llm import bundled
from llm.base import Options
from llm.errors import InvalidOptions


class ModelConfig(BaseModel):
    """One configured model: its backend, its file and the backend's load options."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(
        bundled.MODEL_NAME, min_length=1, description="Name used in logs and metrics."
    )
    backend: str = Field("llama_cpp", description="Registered backend name.")
    model_path: Path | None = Field(None, description="Model file; None means the bundled GGUF.")
    n_ctx: int = Field(4096, ge=256, le=131072, description="Context window in tokens.")
    n_threads: int | None = Field(None, ge=1, le=256, description="CPU threads; None: all cores.")
    n_batch: int = Field(512, ge=1, le=8192, description="Prompt tokens evaluated per batch.")
    n_gpu_layers: int = Field(
        0,
        ge=-1,
        validation_alias=AliasChoices("n_gpu_layers", "gpu_layers"),
        description="Layers offloaded to the GPU (-1: all, 0: CPU only).",
    )
    chat_format: str | None = Field(
        None, description="llama.cpp chat format; None uses the template in the GGUF metadata."
    )
    defaults: Options = Field(default_factory=Options, description="Default generation options.")

    def resolved_model_path(self) -> Path:
        """The model file to load, falling back to the bundled GGUF."""
        return self.model_path or bundled.bundled_model_path()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ModelConfig:
        """Build the configuration from `LLM_*` environment variables."""
        env = os.environ if environ is None else environ
        fields: dict[str, Any] = {}
        simple = {
            "LLM_NAME": "name",
            "LLM_BACKEND": "backend",
            "LLM_MODEL_PATH": "model_path",
            "LLM_N_CTX": "n_ctx",
            "LLM_N_THREADS": "n_threads",
            "LLM_N_BATCH": "n_batch",
            "LLM_GPU_LAYERS": "n_gpu_layers",
            "LLM_CHAT_FORMAT": "chat_format",
        }
        for var, key in simple.items():
            if env.get(var):
                fields[key] = env[var]
        if env.get("LLM_MODEL_PATH") and not env.get("LLM_NAME"):
            fields["name"] = Path(env["LLM_MODEL_PATH"]).stem
        option_vars = {
            "LLM_MAX_NEW_TOKENS": "max_tokens",
            "LLM_TEMPERATURE": "temperature",
            "LLM_SEED": "seed",
        }
        defaults = {key: env[var] for var, key in option_vars.items() if env.get(var)}
        if defaults:
            fields["defaults"] = defaults
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            reverse = {v: k for k, v in (simple | option_vars).items()}
            problems = "; ".join(
                f"{reverse.get(str(e['loc'][-1]), '.'.join(map(str, e['loc'])))}: {e['msg']}"
                for e in exc.errors()
            )
            raise InvalidOptions(f"invalid model configuration: {problems}") from exc
