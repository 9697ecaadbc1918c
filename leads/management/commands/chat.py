"""`python manage.py chat`: talk to a configured model in the terminal (llm/chat_repl.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import llm
from llm.chat_repl import ChatRepl, ChatSession
from llm.settings import load_settings


class Command(BaseCommand):
    help = "Chat with a configured model in the terminal (streaming REPL, saved sessions)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--model", help="a model name from config/llm.yaml (default: reply)")
        parser.add_argument("--local-path", type=Path, help="a GGUF file to load instead")
        parser.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"])
        parser.add_argument("--quant", type=int, choices=[4, 8], help="transformers: 4/8-bit")
        parser.add_argument("--max-tokens", type=int)
        parser.add_argument("--temperature", type=float)
        parser.add_argument("--top-p", type=float)
        parser.add_argument("--top-k", type=int)
        parser.add_argument("--greedy", action="store_true", help="always the likeliest token")
        parser.add_argument("--system", help="the system prompt")
        parser.add_argument("--session-id", help="resume (or name) a saved session")
        parser.add_argument("--no-stream", action="store_true", help="print whole replies")
        parser.add_argument("--prompt", help="ask once, print the answer, exit")
        parser.add_argument(
            "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        logging.getLogger().setLevel(opts["log_level"])
        model = self._model(opts)
        generation = {
            key: opts[name]
            for name, key in [
                ("max_tokens", "max_tokens"),
                ("temperature", "temperature"),
                ("top_p", "top_p"),
                ("top_k", "top_k"),
            ]
            if opts[name] is not None
        }
        if opts["greedy"]:
            generation["greedy"] = True
        try:
            model.options(**generation)  # a chain builds its first model that loads here
        except llm.LLMError as exc:
            raise CommandError(str(exc)) from exc
        folder = settings.VAR_DIR / "chat-sessions"
        session = (
            ChatSession.load(folder, opts["session_id"])
            if opts["session_id"]
            else ChatSession.new()
        )
        if opts["system"]:
            session.system = opts["system"]
        repl = ChatRepl(
            model=model,
            session=session,
            folder=folder,
            options=generation,
            stream=not opts["no_stream"],
            # The command's stream itself: OutputWrapper.write would end every chunk with a line.
            out=cast(TextIO, self.stdout._out),
        )
        if opts["prompt"]:
            if repl.ask(opts["prompt"]) is None:
                raise CommandError("the model gave no answer")
            if opts["session_id"]:
                session.save(folder)
            return
        _persist_line_history(folder / ".input-history")
        repl.run()

    def _model(self, opts: dict[str, Any]) -> llm.BaseLLM:
        flags: dict[str, Any] = {}
        if opts["local_path"]:
            flags["model_path"] = opts["local_path"]
            flags["name"] = opts["local_path"].stem
        if opts["device"]:
            flags["device"] = opts["device"]
        if opts["quant"]:
            flags["quant_bits"] = opts["quant"]
        try:
            if not opts["model"] and not flags:
                return llm.get_llm(role="reply")  # as the workers have it: its chain, if any
            model_settings = load_settings()
            config = (
                model_settings.model(opts["model"])
                if opts["model"]
                else model_settings.for_role("reply")
            )
            if flags:
                config = llm.ModelConfig.model_validate(config.model_dump() | flags)
            return llm.get_llm(config)
        except llm.LLMError as exc:
            raise CommandError(str(exc)) from exc


def _persist_line_history(path: Path) -> None:
    """Arrow-key recall of earlier lines, kept between runs (where readline exists)."""
    try:
        import atexit
        import readline
    except ImportError:  # pragma: no cover - Windows
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        readline.read_history_file(path)
    atexit.register(readline.write_history_file, path)
