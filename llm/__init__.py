"""The local-LLM layer. Knows nothing of Django: callers reach models through `get_llm`."""

from llm.base import BaseLLM, background
from llm.config import ModelConfig
from llm.embeddings import Embedder
from llm.errors import (
    BackendTimeout,
    BackendUnavailable,
    CannotContinue,
    ChainFailed,
    ChainUnavailable,
    ContextWindowExceeded,
    ExtractionFailed,
    GenerationFailed,
    InvalidOptions,
    LLMError,
    ModelNotFound,
    Preempted,
    ResourceExhausted,
    ServerFailed,
    ServerUnreachable,
    TransientError,
    UnknownModel,
)
from llm.failover import FailoverLLM
from llm.metrics import CallRecord, call_context
from llm.registry import get_embedder, get_llm, preflight, preflight_role, register_backend
from llm.router import RouterLLM
from llm.types import (
    Capability,
    ChatMessage,
    ChatRole,
    Completion,
    Finish,
    Options,
    Route,
    Timings,
    Usage,
)

__all__ = [
    "BackendTimeout",
    "BackendUnavailable",
    "BaseLLM",
    "CallRecord",
    "CannotContinue",
    "Capability",
    "ChainFailed",
    "ChainUnavailable",
    "ChatMessage",
    "ChatRole",
    "Completion",
    "ContextWindowExceeded",
    "Embedder",
    "ExtractionFailed",
    "FailoverLLM",
    "Finish",
    "GenerationFailed",
    "InvalidOptions",
    "LLMError",
    "ModelConfig",
    "ModelNotFound",
    "Options",
    "Preempted",
    "ResourceExhausted",
    "Route",
    "RouterLLM",
    "ServerFailed",
    "ServerUnreachable",
    "Timings",
    "TransientError",
    "UnknownModel",
    "Usage",
    "background",
    "call_context",
    "get_embedder",
    "get_llm",
    "preflight",
    "preflight_role",
    "register_backend",
]
