"""Saved llama.cpp context states, so one model serves many conversations without re-reading them.

A llama context holds one evaluated token sequence. llama.cpp itself reuses the longest prefix the
next prompt shares with it, so a conversation whose turns come back to back only evaluates what is
new. When another conversation (or an extraction) takes the context in between, its state is
saved here first, keyed by the chat it holds, and restored when that chat continues; a new
conversation starts from any saved state of the same Site, whose system prompt it shares.

States are saved only when the context is about to be taken over, never after every reply, and
without llama-cpp-python's `save_state` copy of the logits (up to n_batch times vocabulary floats,
100 MB for a 49k vocabulary): sampling runs in llama.cpp's sampler and never reads them.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import llama_cpp
import numpy as np
import numpy.typing as npt

from llm.types import ChatMessage

# A chat as the context holds it: the prompt's messages, then the reply generated from them.
ChatKey = tuple[tuple[str, str], ...]


def chat_key(messages: Sequence[ChatMessage], reply: str | None = None) -> ChatKey:
    key = tuple((m.role, m.content) for m in messages)
    return (*key, ("assistant", reply)) if reply is not None else key


def _continued(held: tuple[str, str], new: tuple[str, str]) -> bool:
    if held == new:
        return True
    # A reply as stored may be shorter than as generated (white space, a sentence cut short):
    # the context then holds a few tokens more, which llama.cpp drops as it compares tokens.
    kept = new[1].strip()
    return held[0] == new[0] == "assistant" and bool(kept) and held[1].strip().startswith(kept)


def shared_turns(held: ChatKey, new: ChatKey) -> int:
    """How many leading messages of `new` the chat `held` (in a context, or saved) has."""
    n = 0
    for x, y in zip(held, new, strict=False):
        if not _continued(x, y):
            break
        n += 1
    return n


@dataclass(frozen=True)
class SavedState:
    key: ChatKey
    tokens: npt.NDArray[np.intc]
    data: ctypes.Array[ctypes.c_uint8]

    @property
    def size(self) -> int:
        return len(self.data) + self.tokens.nbytes


def state_save(model: llama_cpp.Llama, key: ChatKey) -> SavedState:
    """The context's evaluated tokens and KV cells (only the cells in use are written)."""
    size = llama_cpp.llama_state_get_size(model.ctx)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_get_data(model.ctx, buffer, size)
    data = (ctypes.c_uint8 * written).from_buffer_copy(buffer) if written < size else buffer
    return SavedState(key=key, tokens=model.input_ids[: model.n_tokens].copy(), data=data)


def state_load(model: llama_cpp.Llama, state: SavedState) -> None:
    """Put `state` back in the context; the next generation reuses its longest shared prefix."""
    if llama_cpp.llama_state_set_data(model.ctx, state.data, len(state.data)) != len(state.data):
        raise RuntimeError("llama.cpp could not restore a saved context state")
    model.input_ids[: len(state.tokens)] = state.tokens
    model.n_tokens = len(state.tokens)
    # The restored context has no fresh logits: llama-cpp-python must decode at least one token
    # before sampling (its own load_state sets the same flag).
    model._requires_eval = True


class StateCache:
    """Saved states, least recently used dropped first once they pass `capacity` bytes."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._states: OrderedDict[ChatKey, SavedState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    @property
    def size(self) -> int:
        return sum(s.size for s in self._states.values())

    def put(self, state: SavedState) -> None:
        if state.size > self.capacity:
            return
        self._states.pop(state.key, None)
        # A state that another one extends adds nothing: the longer one restores the same prefix.
        for key in [k for k in self._states if shared_turns(k, state.key) == len(k)]:
            del self._states[key]
        self._states[state.key] = state
        while self.size > self.capacity:
            self._states.popitem(last=False)

    def best(self, key: ChatKey) -> tuple[SavedState | None, int]:
        """The saved state sharing the most leading messages with `key`, and how many it shares."""
        found, depth = None, 0
        for state in reversed(self._states.values()):  # the most recent wins a tie
            shared = shared_turns(state.key, key)
            if shared > depth:
                found, depth = state, shared
        if found is not None:
            self._states.move_to_end(found.key)
        return found, depth
