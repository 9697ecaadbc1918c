"""Real engines for the backend contract suite: one module per backend, each a pytest fixture.

An engine fixture returns an `Engine`: a built model on a real engine (or, for backends whose
engine cannot run here, a local server speaking its documented wire format), and how to make
it fail in the ways the contract checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llm import BaseLLM


@dataclass(frozen=True)
class Engine:
    model: BaseLLM
    # Builds the same backend pointed at something absent (a missing file, a closed port);
    # building it, or its first call, must raise BackendUnavailable (or a subclass).
    unavailable: Callable[[], BaseLLM]
    # The context window the model was built with, to overflow it on purpose.
    context_window: int
    # False for a model with random weights (the ctransformers engine): it cannot follow
    # instructions, so extract() must end in ExtractionFailed rather than a valid object.
    coherent: bool = True
