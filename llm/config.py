"""Model configuration: what to load and how, validated once at start-up."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from llm import bundled
from llm.errors import InvalidOptions
from llm.types import Capability, Options, Usage


class Price(BaseModel):
    """What a model's calls cost, in the deployment's currency (LLM_COST_CURRENCY): per 1,000
    tokens read and written (a paid API), and per hour of the machine it runs on (a local
    model: a call is charged the time it takes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_1k_prompt: float = Field(0.0, ge=0, description="Per 1,000 prompt tokens.")
    per_1k_completion: float = Field(0.0, ge=0, description="Per 1,000 generated tokens.")
    per_hour: float = Field(0.0, ge=0, description="Per hour of the machine, per call's time.")

    def cost(self, usage: Usage, seconds: float) -> float:
        """What a call that counted `usage` and took `seconds` cost."""
        return (
            usage.prompt_tokens / 1000 * self.per_1k_prompt
            + usage.completion_tokens / 1000 * self.per_1k_completion
            + max(seconds, 0.0) / 3600 * self.per_hour
        )


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
    # For server backends (ollama, openai_compat) and Hugging Face ones (transformers).
    model: str | None = Field(
        None, description="Model id: a server's model name, or a Hugging Face repo or folder."
    )
    base_url: str | None = Field(None, description="Server URL, e.g. http://127.0.0.1:11434.")
    api_key_env: str | None = Field(
        None, description="Name of the environment variable holding the API key (never the key)."
    )
    timeout: float = Field(120.0, gt=0, le=3600, description="Seconds to wait for a server.")
    device: Literal["auto", "cuda", "mps", "cpu"] = Field(
        "auto", description="transformers: where to run the model."
    )
    quant_bits: Literal[4, 8] | None = Field(
        None, description="transformers: load in 4-bit (NF4) or 8-bit through bitsandbytes (CUDA)."
    )
    lora_path: Path | None = Field(None, description="transformers: a PEFT LoRA adapter.")
    backend_options: dict[str, Any] = Field(
        default_factory=dict, description="Backend-specific settings, validated by the backend."
    )
    template_family: Literal["chatml", "mistral", "llama3"] | None = Field(
        None,
        description="Prompt family: picks per-family prompt files, and for mistral folds the "
        "system prompt into the first user turn (Mistral's template has no system role).",
    )
    capability: Capability = Field(
        "acknowledge",
        description="How much of a visitor's reply the model writes: 'acknowledge' (one short "
        "sentence; the product states the answers and asks the questions, for small models such "
        "as the bundled one) or 'compose' (the whole reply, sentence by sentence under the reply "
        "guard, for 7B-class models and up).",
    )
    price: Price = Field(default_factory=lambda: Price(), description="What its calls cost.")
    defaults: Options = Field(default_factory=Options, description="Default generation options.")

    def resolved_model_path(self) -> Path:
        """The model file to load, falling back to the bundled GGUF."""
        return self.model_path or bundled.bundled_model_path()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ModelConfig:
        """Build the configuration from `LLM_*` environment variables alone."""
        return _validate(cls, env_overrides(environ), "environment")


ENV_FIELDS = {
    "LLM_NAME": "name",
    "LLM_BACKEND": "backend",
    "LLM_MODEL_PATH": "model_path",
    "LLM_N_CTX": "n_ctx",
    "LLM_N_THREADS": "n_threads",
    "LLM_N_BATCH": "n_batch",
    "LLM_GPU_LAYERS": "n_gpu_layers",
    "LLM_CHAT_FORMAT": "chat_format",
    "LLM_MODEL": "model",
    "LLM_BASE_URL": "base_url",
    "LLM_API_KEY_ENV": "api_key_env",
    "LLM_TIMEOUT": "timeout",
    "LLM_DEVICE": "device",
    "LLM_LORA_PATH": "lora_path",
    "LLM_TEMPLATE_FAMILY": "template_family",
    "LLM_CAPABILITY": "capability",
}
ENV_OPTIONS = {
    "LLM_MAX_NEW_TOKENS": "max_tokens",
    "LLM_TEMPERATURE": "temperature",
    "LLM_SEED": "seed",
}
_ENV_NAMES = {v: k for k, v in (ENV_FIELDS | ENV_OPTIONS).items()} | {
    "quant_bits": "LLM_QUANT_BITS"
}


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The model fields that `LLM_*` environment variables set (unvalidated)."""
    env = os.environ if environ is None else environ
    fields: dict[str, Any] = {key: env[var] for var, key in ENV_FIELDS.items() if env.get(var)}
    if env.get("LLM_MODEL_PATH") and not env.get("LLM_NAME"):
        fields["name"] = Path(env["LLM_MODEL_PATH"]).stem
    elif env.get("LLM_MODEL") and not env.get("LLM_NAME"):
        fields["name"] = env["LLM_MODEL"]
    if env.get("LLM_COST_PER_HOUR"):  # the machine's hour, for a local default model
        fields["price"] = {"per_hour": env["LLM_COST_PER_HOUR"]}
    if env.get("LLM_QUANT_ENABLED", "").lower() in {"1", "true", "yes", "on"}:
        fields["quant_bits"] = env.get("LLM_QUANT_BITS") or 4
    elif env.get("LLM_QUANT_BITS"):
        fields["quant_bits"] = env["LLM_QUANT_BITS"]
    defaults = {key: env[var] for var, key in ENV_OPTIONS.items() if env.get(var)}
    if defaults:
        fields["defaults"] = defaults
    if env.get("LLM_BACKEND_OPTIONS"):
        fields["backend_options"] = _json_object("LLM_BACKEND_OPTIONS", env["LLM_BACKEND_OPTIONS"])
    return fields


def _json_object(var: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidOptions(f"{var} is not JSON ({exc}): {text[:200]!r}") from None
    if not isinstance(value, dict):
        raise InvalidOptions(
            f"{var} must be a JSON object of the backend's options, e.g. "
            f'{{"extra_sampling": "llama_cpp"}}; got {text[:200]!r}'
        )
    return value


def _validate(cls: type[M], data: Mapping[str, Any], where: str) -> M:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_ENV_NAMES.get(str(e['loc'][-1]), '.'.join(map(str, e['loc'])))}: {e['msg']}"
            if where == "environment"
            else f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors()
        )
        raise InvalidOptions(f"invalid model configuration in {where}: {problems}") from exc


M = TypeVar("M", bound=BaseModel)


def parse_backend_options(backend: str, raw: Mapping[str, Any], schema: type[M]) -> M:
    """A backend's `backend_options`, validated by its own model: a typo names the key and
    lists the accepted ones."""
    try:
        return schema.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(
            f"backend_options.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        known = ", ".join(schema.model_fields) or "none"
        raise InvalidOptions(
            f"invalid {backend} backend_options: {problems} (accepted keys: {known})"
        ) from exc
