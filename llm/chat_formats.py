"""Plain-text chat formats for backends that have no chat-template engine (ctransformers).

Each format renders the conversation up to the assistant's turn, without the BOS token: the
model's tokenizer adds that one, and a literal "<s>" in the text would be read as characters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from llm.errors import InvalidOptions
from llm.types import ChatMessage


@dataclass(frozen=True)
class ChatFormat:
    name: str
    render: Callable[[Sequence[ChatMessage]], str]
    # Strings that end the assistant's turn when a model writes them out as text.
    stop: tuple[str, ...]

    def prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt text, ending where the reply starts; when `messages` end with an
        assistant message, after its text and left open, for the model to continue it."""
        if messages and messages[-1].role == "assistant":
            return self.render(messages[:-1]) + messages[-1].content
        return self.render(messages)


def _mistral(messages: Sequence[ChatMessage]) -> str:
    """Mistral Instruct v0.2: no system role, so system text opens the first user turn."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    parts: list[str] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "assistant":
            parts.append(f"{message.content}</s>")
            continue
        content = message.content
        if system:
            content, system = f"{system}\n\n{content}", ""
        parts.append(f"[INST] {content} [/INST]")
    if system:  # a conversation of system messages only
        parts.append(f"[INST] {system} [/INST]")
    return "".join(parts)


def _chatml(messages: Sequence[ChatMessage]) -> str:
    turns = [f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages]
    return "".join(turns) + "<|im_start|>assistant\n"


def _llama3(messages: Sequence[ChatMessage]) -> str:
    turns = [
        f"<|start_header_id|>{m.role}<|end_header_id|>\n\n{m.content}<|eot_id|>" for m in messages
    ]
    return "".join(turns) + "<|start_header_id|>assistant<|end_header_id|>\n\n"


FORMATS: dict[str, ChatFormat] = {
    "mistral": ChatFormat("mistral", _mistral, ("</s>", "[INST]")),
    "chatml": ChatFormat("chatml", _chatml, ("<|im_end|>", "<|im_start|>")),
    "llama3": ChatFormat("llama3", _llama3, ("<|eot_id|>", "<|start_header_id|>")),
}
# llama.cpp's names for the same formats, so one LLM_CHAT_FORMAT value serves both backends.
_ALIASES = {"mistral-instruct": "mistral", "llama-3": "llama3"}


def chat_format(family: str) -> ChatFormat:
    """The format called `family` (or one of llama.cpp's names for it)."""
    key = family.strip().lower()
    try:
        return FORMATS[_ALIASES.get(key, key)]
    except KeyError:
        known = ", ".join(sorted(FORMATS) + sorted(_ALIASES))
        raise InvalidOptions(f"unknown chat format {family!r}; known: {known}") from None


def format_chat(family: str, messages: Sequence[ChatMessage]) -> str:
    """The prompt text for `messages` in the chat format `family` (see `ChatFormat.prompt`)."""
    return chat_format(family).prompt(messages)


def stop_strings(family: str) -> tuple[str, ...]:
    """The strings that end an assistant turn in the chat format `family`."""
    return chat_format(family).stop
