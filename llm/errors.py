"""One error taxonomy for every backend; callers decide on these types, never on message text."""

from __future__ import annotations


class LLMError(Exception):
    """Base class of every error the model layer raises."""


class UnknownModel(LLMError):
    """A model or backend name that the registry does not know."""

    def __init__(self, name: str, known: list[str], kind: str = "model") -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(self.known) or '(none)'}")


class InvalidOptions(LLMError):
    """Generation options or model configuration that fail validation."""


class BackendUnavailable(LLMError):
    """The backend cannot run here: a missing package, model file or server."""


class ModelNotFound(BackendUnavailable):
    """The configured model file does not exist."""


class ContextWindowExceeded(LLMError):
    """The prompt does not fit the model's context window."""


class BackendTimeout(LLMError):
    """The backend (usually a server) did not answer in time."""


class GenerationFailed(LLMError):
    """The backend failed while producing output."""


class ExtractionFailed(LLMError):
    """The model produced no object that validates against the schema."""
