"""What is read from a chat, or done to it, before a model sees it: pure functions over messages."""

from __future__ import annotations

from collections.abc import Sequence

from llm.types import ChatMessage


def fold_system_prompt(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Fold system messages into user turns, for templates without a system role.

    The leading system prompt opens the first user turn; a later one (a turn's note) closes
    the user turn before it, or opens the next one when an assistant turn precedes it.
    """
    folded: list[ChatMessage] = []
    waiting: list[str] = []  # system text for the next user turn
    for message in messages:
        if message.role == "system":
            if folded and folded[-1].role == "user":
                folded[-1] = ChatMessage("user", f"{folded[-1].content}\n\n{message.content}")
            else:
                waiting.append(message.content)
        elif message.role == "user" and waiting:
            folded.append(ChatMessage("user", "\n\n".join([*waiting, message.content])))
            waiting = []
        else:
            folded.append(message)
    if waiting:  # nothing after it to fold into
        folded.append(ChatMessage("user", "\n\n".join(waiting)))
    return folded


def begun_reply(messages: Sequence[ChatMessage]) -> str | None:
    """The text of the reply `messages` ask a model to continue (they end with an assistant
    message: `BaseLLM.can_continue`); None when they ask for a new turn."""
    return messages[-1].content if messages and messages[-1].role == "assistant" else None
