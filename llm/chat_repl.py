"""A terminal chatbot on the model layer: streaming REPL, saved sessions, one-shot prompts.

`python manage.py chat` is its entry point; this module knows nothing of Django.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from llm.base import BaseLLM
from llm.errors import LLMError
from llm.types import ChatMessage, Completion

HELP = """\
Commands:
  /help      this list
  /history   the conversation so far
  /clear     forget the conversation (the system prompt stays)
  /stream    turn streaming on or off
  /save      save the session now
  /exit      save and quit (also /quit, or Ctrl-D)
Anything else is sent to the model. Ctrl-C stops a reply that is being written."""


@dataclass
class ChatSession:
    """One conversation with the model, saved as JSON so that it can be resumed."""

    id: str
    system: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)

    @classmethod
    def new(cls, system: str | None = None) -> ChatSession:
        return cls(id=secrets.token_hex(4), system=system)

    @classmethod
    def load(cls, folder: Path, session_id: str) -> ChatSession:
        path = folder / f"{session_id}.json"
        if not path.is_file():
            return cls(id=session_id)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            id=session_id,
            system=data.get("system"),
            messages=[ChatMessage(m["role"], m["content"]) for m in data.get("messages", [])],
        )

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.id}.json"
        data = {
            "system": self.system,
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
        }
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    def prompt(self) -> list[ChatMessage]:
        system = [ChatMessage("system", self.system)] if self.system else []
        return system + self.messages


class ChatRepl:
    """Reads lines, answers commands, streams the model's replies."""

    def __init__(
        self,
        *,
        model: BaseLLM,
        session: ChatSession,
        folder: Path,
        options: dict[str, Any],
        stream: bool = True,
        out: TextIO = sys.stdout,
        read: Callable[[str], str] = input,
    ) -> None:
        self.model, self.session, self.folder = model, session, folder
        self.options, self.stream, self.out, self.read = options, stream, out, read

    def say(self, text: str = "", end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    def ask(self, text: str) -> Completion | None:
        """Send one visitor line to the model and print the answer; None if it failed."""
        self.session.messages.append(ChatMessage("user", text))
        completion: Completion | None = None
        try:
            if self.stream:
                for item in self.model.stream(self.session.prompt(), **self.options):
                    if isinstance(item, Completion):
                        completion = item
                    else:
                        self.say(item, end="")
                self.say()
            else:
                completion = self.model.complete(self.session.prompt(), **self.options)
                self.say(completion.text)
        except KeyboardInterrupt:
            self.say("\n[stopped]")
        except LLMError as exc:
            self.say(f"\n[error] {exc}")
        if completion is None:
            self.session.messages.pop()  # keep the history a clean alternation
            return None
        self.session.messages.append(ChatMessage("assistant", completion.text))
        return completion

    def command(self, line: str) -> bool:
        """Run a /command; False when the REPL should end."""
        name = line.split()[0].lower()
        if name in {"/exit", "/quit"}:
            self.say(f"session {self.session.id} saved to {self.session.save(self.folder)}")
            return False
        if name == "/help":
            self.say(HELP)
        elif name == "/history":
            for message in self.session.prompt():
                self.say(f"{message.role}: {message.content}")
            if not self.session.messages:
                self.say("(no messages yet)")
        elif name == "/clear":
            self.session.messages.clear()
            self.say("conversation cleared")
        elif name == "/stream":
            self.stream = not self.stream
            self.say(f"streaming {'on' if self.stream else 'off'}")
        elif name == "/save":
            self.say(f"saved to {self.session.save(self.folder)}")
        else:
            self.say(f"unknown command {name}; /help lists them")
        return True

    def run(self) -> None:
        self.say(
            f"Chatting with {self.model.name} ({self.model.backend}), session {self.session.id}. "
            "/help for commands."
        )
        while True:
            try:
                line = self.read("you> ").strip()
            except EOFError:
                self.say()
                self.command("/exit")
                return
            except KeyboardInterrupt:
                self.say()
                continue
            if not line:
                continue
            if line.startswith("/"):
                if not self.command(line):
                    return
                continue
            self.out.write("bot> ")
            self.ask(line)
