"""The local-LLM layer. Knows nothing of Django: callers reach models through `get_llm`."""

from llm.base import BaseLLM, ChatMessage, Completion, Finish, Options, Timings, Usage
from llm.config import ModelConfig
from llm.errors import (
    BackendTimeout,
    BackendUnavailable,
    ContextWindowExceeded,
    ExtractionFailed,
    GenerationFailed,
    InvalidOptions,
    LLMError,
    ModelNotFound,
    UnknownModel,
)
from llm.registry import get_llm, preflight, register_backend

__all__ = [
    "BackendTimeout",
    "BackendUnavailable",
    "BaseLLM",
    "ChatMessage",
    "Completion",
    "ContextWindowExceeded",
    "ExtractionFailed",
    "Finish",
    "GenerationFailed",
    "InvalidOptions",
    "LLMError",
    "ModelConfig",
    "ModelNotFound",
    "Options",
    "Timings",
    "UnknownModel",
    "Usage",
    "get_llm",
    "preflight",
    "register_backend",
]
