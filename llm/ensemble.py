"""Ensemble consensus: several models answer, and the answer that agrees most with the others
is the one given.

`EnsembleLLM` is itself a `BaseLLM` (the router's tier that asks for it uses it like any
model). Its models answer in parallel, each in a thread of its own; each answer is embedded
(`llm.embeddings`, a local model), and its agreement is its mean cosine similarity to the
other answers. The answer with the most agreement wins (the first model's, on a tie: with two
answers, always); the `Completion` carries its agreement. A model that fails, or cannot be
built here, is left out; with one answer, that answer is given (agreement None); with none,
the call fails naming each model's error. Without its embedding model (not fetched, no
torch), the ensemble gives the first answer, as the registry warns at start.

The winner can be known only once every answer is in, so nothing can be streamed before: the
winner is streamed word by word once chosen, and the visitor's first word comes as late as the
slowest model's last. Engines that share the CPU (two llama.cpp models on the same cores) halve
each other; the ensemble is for a tier of few, hard messages, on models that do not.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from llm.base import BaseLLM, constrained
from llm.embeddings import Embedder
from llm.errors import LLMError, Preempted
from llm.failover import chain_error
from llm.types import (
    ChatMessage,
    Completion,
    Finish,
    JsonSchema,
    Options,
    Timings,
    least_capability,
)

logger = logging.getLogger(__name__)


def agreements(vectors: np.ndarray) -> list[float]:
    """Each answer's mean cosine similarity to the others (vectors L2-normalised)."""
    n = len(vectors)
    similar = vectors @ vectors.T
    return [float((similar[i].sum() - similar[i, i]) / (n - 1)) for i in range(n)]


class EnsembleLLM(BaseLLM):
    """Several models answer; the consensus answer is given."""

    backend = "ensemble"
    supports_schema = True  # passed on to the models that can use it

    def __init__(self, members: Sequence[BaseLLM], embedder: Embedder | None) -> None:
        if not members:
            raise ValueError("an ensemble needs models")
        head = members[0]
        super().__init__(
            name="ensemble(" + ", ".join(m.name for m in members) + ")",
            defaults=head.defaults,
            context_window=head.context_window,
            template_family=head.template_family,
            capability=least_capability(m.capability for m in members),
        )
        self.members = list(members)
        self.embedder = embedder

    def _answer(
        self,
        model: BaseLLM,
        messages: Sequence[ChatMessage],
        opts: Options,
        schema: JsonSchema | None,
    ) -> Completion:
        chat, constraint = constrained(model, messages, schema)
        return model._complete(chat, opts, constraint)

    def answers(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None = None
    ) -> tuple[list[Completion], list[tuple[str, LLMError]]]:
        """Every model's answer, in parallel (the caller's context, background work included,
        goes with each), and the errors of those that failed."""
        with ThreadPoolExecutor(max_workers=len(self.members)) as pool:
            futures = [
                pool.submit(
                    contextvars.copy_context().run, self._answer, model, messages, opts, schema
                )
                for model in self.members
            ]
        answers: list[Completion] = []
        errors: list[tuple[str, LLMError]] = []
        for model, future in zip(self.members, futures, strict=True):
            exc = future.exception()
            if exc is None:
                answers.append(future.result())
            elif isinstance(exc, Preempted):
                raise exc  # background work gives the models up: not a model's failure
            elif isinstance(exc, LLMError):
                errors.append((model.name, exc))
                logger.warning("ensemble model %s failed: %s", model.name, exc)
            else:
                raise exc
        return answers, errors

    def _stream(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None
    ) -> Iterator[str | Completion]:
        started = time.perf_counter()
        answers, errors = self.answers(messages, opts, schema)
        if not answers:
            raise chain_error(f"every model of {self.name} failed", errors)
        agreement: float | None = None
        winner = answers[0]
        if len(answers) > 1 and self.embedder is not None:
            scores = agreements(self.embedder.embed([a.text.strip() for a in answers]))
            # A tie (two answers always tie) goes to the earlier model; floats may differ by
            # rounding where the similarities are the same.
            best = max(range(len(answers)), key=lambda i: (round(scores[i], 6), -i))
            winner, agreement = answers[best], round(scores[best], 4)
            logger.info(
                "ensemble: %s wins with agreement %.2f (%s)",
                winner.model, agreement,
                ", ".join(f"{a.model} {s:.2f}" for a, s in zip(answers, scores, strict=True)),
            )  # fmt: skip
        first = time.perf_counter() - started
        yield from re.findall(r"\S+\s*|\s+", winner.text)
        yield replace(
            winner,
            timings=Timings(first, time.perf_counter() - started),
            failed_over=tuple(name for name, _ in errors),
            agreement=agreement,
            cost=sum(a.cost for a in answers),  # every model answered
        )

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        raise NotImplementedError("an ensemble streams through its models' own _complete")

    def ready(self) -> BaseLLM:
        for model in self.members:
            model.ready()
        return self.members[0].ready()

    def warm(self, messages: Sequence[ChatMessage], *, slot: int | None = None) -> bool:
        return any([model.warm(messages, slot=slot) for model in self.members])
