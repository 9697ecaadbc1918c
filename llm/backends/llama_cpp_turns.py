"""A reply another model began, continued through llama-cpp-python.

`create_chat_completion` always opens a new assistant turn after the messages. To continue a
final assistant message instead, the chat before it is rendered the way the model's chat
handler renders it (the GGUF's own Jinja template, or one of `llm.chat_formats`), the begun
text follows, and `create_completion` takes that prompt as tokens: the template's text with
its special tokens read as such, the begun text (model output, never trusted) as plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from llm.chat_formats import chat_format
from llm.errors import InvalidOptions
from llm.types import ChatMessage


@dataclass(frozen=True)
class OpenTurn:
    """How a model's chat handler renders a chat, up to the assistant's turn."""

    render: Callable[[Sequence[ChatMessage]], str]
    stop: tuple[str, ...]  # what ends the assistant's turn when written out as text
    add_bos: bool  # the rendered text does not begin with the BOS token itself

    def tokens(self, llama: llama_cpp.Llama, messages: Sequence[ChatMessage]) -> list[int]:
        """The prompt of `messages`, whose last (an assistant message) is left open."""
        *chat, begun = messages
        head = llama.tokenize(self.render(chat).encode("utf-8"), add_bos=self.add_bos, special=True)
        return [*head, *llama.tokenize(begun.content.encode("utf-8"), add_bos=False, special=False)]


def _jinja(llama: llama_cpp.Llama, template: str) -> OpenTurn:
    """The GGUF's own template, as llama-cpp-python builds its handler from the metadata."""

    def text(token: int) -> str:
        return llama.detokenize([token], special=True).decode("utf-8") if token >= 0 else ""

    eos = int(llama.metadata.get("tokenizer.ggml.eos_token_id", llama.token_eos()))
    bos = int(llama.metadata.get("tokenizer.ggml.bos_token_id", llama.token_bos()))
    formatter = Jinja2ChatFormatter(
        template=template, eos_token=text(eos), bos_token=text(bos), stop_token_ids=[eos]
    )

    def render(messages: Sequence[ChatMessage]) -> str:
        chat = cast(Any, [{"role": m.role, "content": m.content} for m in messages])
        return formatter(messages=chat).prompt

    return OpenTurn(render, (text(eos),), add_bos=False)  # the template writes the BOS


def open_turn(llama: llama_cpp.Llama) -> OpenTurn | None:
    """How `llama` renders its chats, or None for a chat format this cannot render (one of
    llama-cpp-python's own handlers with no counterpart here): that model cannot continue."""
    name = llama.chat_format or ""
    if name.startswith("chat_template."):  # the GGUF's templates, as llama-cpp-python names them
        key = "tokenizer.chat_template" if name == "chat_template.default" else f"tokenizer.{name}"
        template = llama.metadata.get(key)
        return _jinja(llama, template) if template else None
    try:
        found = chat_format(name)
    except InvalidOptions:
        return None
    return OpenTurn(found.render, found.stop, add_bos=True)  # rendered without the BOS
