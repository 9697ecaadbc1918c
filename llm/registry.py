"""Backends register by name; `get_llm` builds a configured model once per process."""

from __future__ import annotations

import importlib
import threading

from llm.base import BaseLLM
from llm.config import ModelConfig
from llm.errors import BackendUnavailable, UnknownModel

# Dotted paths, imported on first use, so `import llm` never pulls in llama_cpp or torch.
_BACKENDS: dict[str, str] = {
    "llama_cpp": "llm.backends.llama_cpp:LlamaCppLLM",
    "ctransformers": "llm.backends.ctransformers:CTransformersLLM",
    "transformers": "llm.backends.transformers:TransformersLLM",
    "ollama": "llm.backends.ollama:OllamaLLM",
    "openai_compat": "llm.backends.openai_compat:OpenAICompatLLM",
    "fake": "llm.backends.fake:FakeLLM",
}
_cache: dict[str, BaseLLM] = {}  # keyed by the configuration's JSON
_lock = threading.Lock()


def register_backend(name: str, target: str) -> None:
    """Make a backend class available under `name` ("package.module:ClassName")."""
    _BACKENDS[name] = target


def known_backends() -> list[str]:
    return sorted(_BACKENDS)


def backend_class(name: str) -> type[BaseLLM]:
    """Import and return the class registered as `name`."""
    try:
        module_name, _, attr = _BACKENDS[name].partition(":")
    except KeyError:
        raise UnknownModel(name, list(_BACKENDS), kind="backend") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailable(f"backend {name!r} cannot be imported: {exc}") from exc
    cls: type[BaseLLM] = getattr(module, attr)
    return cls


def build(config: ModelConfig) -> BaseLLM:
    """Construct a new model from its configuration."""
    cls = backend_class(config.backend)
    return cls.from_config(config)


def preflight(config: ModelConfig) -> None:
    """Check, without loading weights, that `config` can be built here; raise if not."""
    backend_class(config.backend).preflight(config)


def get_llm(config: ModelConfig | None = None) -> BaseLLM:
    """The model for `config` (default: from the environment), built once per process."""
    config = config or ModelConfig.from_env()
    key = config.model_dump_json()
    with _lock:
        if key not in _cache:
            _cache[key] = build(config)
        return _cache[key]


def reset() -> None:
    """Forget every cached model, releasing what each holds."""
    with _lock:
        for model in _cache.values():
            model.close()
        _cache.clear()
