"""One error taxonomy for every backend; callers decide on these types, never on message text."""

from __future__ import annotations


class LLMError(Exception):
    """Base class of every error the model layer raises."""


class TransientError(LLMError):
    """An error that may pass: the same call may succeed later, or on another model.

    Retries and failover key on this type (never on a message): a server that is down or slow
    is transient; a missing file, a bad option or a prompt too long for the model is not.
    """


class UnknownModel(LLMError):
    """A model or backend name that the registry does not know."""

    def __init__(self, name: str, known: list[str], kind: str = "model") -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(self.known) or '(none)'}")


class InvalidOptions(LLMError):
    """Generation options or model configuration that fail validation."""


class CannotContinue(InvalidOptions):
    """A chat that ends with an assistant message asks the model to continue that message (a
    reply another model began, `llm.failover`), and this model, or its server, cannot."""


class BackendUnavailable(LLMError):
    """The backend cannot run here: a missing package, model file or server."""


class ModelNotFound(BackendUnavailable):
    """The configured model file does not exist."""


class ResourceExhausted(LLMError):
    """A model does not fit this worker's memory budget (`resources:`), even with every other
    model unloaded; the message names what it needs and what the budget allows."""


class ContextWindowExceeded(LLMError):
    """The prompt does not fit the model's context window."""


class ServerUnreachable(BackendUnavailable, TransientError):
    """A model server could not be reached (not running, restarting, a network fault)."""


class BackendTimeout(TransientError):
    """The backend (usually a server) did not answer in time."""


class GenerationFailed(LLMError):
    """The backend failed while producing output."""


class ServerFailed(GenerationFailed, TransientError):
    """A model server failed a request it may serve later: HTTP 429 or 5xx, or a connection
    that broke mid-reply."""


class Preempted(TransientError):
    """A background generation gave the model up to work that goes first (a visitor's reply);
    run it again once that is done (`llm.background`)."""


class ExtractionFailed(LLMError):
    """The model produced no object that validates against the schema."""


class ChainFailed(GenerationFailed):
    """Every model of a failover chain failed the call (`llm.failover`); the message names
    each one's error."""


class ChainUnavailable(ChainFailed, TransientError):
    """Every model of a failover chain failed with an error that may pass: the call may
    succeed later."""
