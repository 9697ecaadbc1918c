"""A model under the resource manager (`llm.resources`): loaded within the worker's memory
budget, unloaded when the budget needs room for another, loaded again on its next call.

The registry hands these out in place of the models themselves when `resources:` sets a budget,
so that a chain, a router or an ensemble that holds one always calls a model that is loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from llm.base import BaseLLM
from llm.config import ModelConfig
from llm.resources import MemoryBudget, estimate
from llm.types import ChatMessage, Completion, Finish, JsonSchema, Options


class ResidentLLM(BaseLLM):
    """A model the memory budget may unload between calls."""

    backend = "resident"

    def __init__(
        self,
        config: ModelConfig,
        *,
        build: Callable[[ModelConfig], BaseLLM],
        budget: MemoryBudget,
        key: str,
    ) -> None:
        self.config, self._build, self._budget, self._key = config, build, budget, key
        self._model: BaseLLM | None = None
        self._lock = threading.Lock()
        self._calls = 0  # answering now: the budget leaves it loaded
        model = self.loaded()
        super().__init__(**BaseLLM.base_kwargs(config), context_window=model.context_window)
        # What the model can do, known once it was loaded; the same after each reload.
        self.backend = model.backend  # type: ignore[misc]  # the model's, in metrics and logs
        self.supports_schema = model.supports_schema  # type: ignore[misc]  # per instance here
        self.can_continue = model.can_continue

    def loaded(self) -> BaseLLM:
        """The model, loaded (within the budget) if it was not."""
        with self._lock:
            if self._model is None:
                self._budget.admit(
                    self._key, self.config.name, estimate(self.config), self.unload,
                    busy=lambda: self._calls > 0,
                )  # fmt: skip
                try:
                    self._model = self._build(self.config)
                except BaseException:
                    self._budget.forget(self._key)
                    raise
            self._budget.used(self._key)
            return self._model

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    def unload(self) -> None:
        """Release the model's memory; its next call loads it again."""
        with self._lock:
            model, self._model = self._model, None
        self._budget.forget(self._key)
        if model is not None:
            model.close()

    def _stream(
        self, messages: Sequence[ChatMessage], opts: Options, schema: JsonSchema | None
    ) -> Iterator[str | Completion]:
        with self._lock:
            self._calls += 1  # before it is loaded: no other load may unload it meanwhile
        try:
            yield from self.loaded()._stream(messages, opts, schema)
        finally:
            with self._lock:
                self._calls -= 1

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        raise NotImplementedError("a resident model streams through its model's own _stream")

    def count_tokens(self, text: str) -> int:
        return self.loaded().count_tokens(text)

    def options(self, **overrides: Any) -> Options:
        return self.loaded().options(**overrides)

    def warm(self, messages: Sequence[ChatMessage], *, slot: int | None = None) -> bool:
        return self.loaded().warm(messages, slot=slot)

    def close(self) -> None:
        self.unload()
