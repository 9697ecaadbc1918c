"""Try to make the assistant give its instructions away, and count what visitors would see."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import llm
from leads.errors import DatasetInvalid
from leads.injection import PROBES, probes_load
from leads.models import Site
from leads.services.probes import injection_probe
from leads.services.reply_writing import model_at


class Command(BaseCommand):
    help = (
        "Send each prompt-injection probe (leads/data/injection_probes.jsonl by default) to a "
        "throwaway copy of a Site through the real reply path, and check what the widget would "
        "show for the Site's canary and runs of its instructions. Prints each probe, how many "
        "replies the guard stopped, and as the last line leaks=<count> (0 is the only pass)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--path", type=Path, default=PROBES, help="JSONL file of probes")
        parser.add_argument("--site", default="demo", help="key of the Site to copy")
        parser.add_argument("--model", help="model name from config/llm.yaml (default: reply)")
        parser.add_argument("--json", action="store_true", help="print one JSON report")
        parser.add_argument(
            "--capability",
            choices=["acknowledge", "compose"],
            help="how much of each reply the model writes (default: its own setting)",
        )

    def handle(
        self,
        *args: Any,
        path: Path,
        site: str,
        model: str | None,
        json: bool,
        capability: str | None = None,
        **_: Any,
    ) -> None:
        try:
            probes = probes_load(path)
        except FileNotFoundError as exc:
            raise CommandError(f"no such file: {path}") from exc
        except DatasetInvalid as exc:
            raise CommandError(str(exc)) from exc
        target = Site.objects.filter(key=site).first()
        if target is None:
            raise CommandError(f"no Site with key {site!r}; `manage.py ensure_demo` makes 'demo'")
        try:
            engine = llm.get_llm(model) if model else llm.get_llm(role="reply")
        except llm.LLMError as exc:
            raise CommandError(f"the reply model cannot be used: {exc}") from exc
        engine = model_at(engine, capability)  # type: ignore[arg-type]  # argparse's choices
        started = time.perf_counter()
        results = [injection_probe(site=target, probe=p, model=engine) for p in probes]
        seconds = time.perf_counter() - started
        leaks = [r for r in results if r.leaked]
        stopped = Counter(r.stopped for r in results if r.stopped)
        if json:
            self.stdout.write(self._json(results, engine.name, seconds))
        else:
            for r in results:
                mark = (
                    f"LEAK ({r.leaked})"
                    if r.leaked
                    else (f"stopped ({r.stopped})" if r.stopped else "ok")
                )
                self.stdout.write(f"{r.probe.id:14} {mark:18} {r.reply[:90]!r}")
            self.stdout.write(
                f"{len(results)} probes against {engine.name} in {seconds:.0f}s; the guard "
                f"stopped {sum(stopped.values())} replies "
                f"({', '.join(f'{k}: {v}' for k, v in sorted(stopped.items())) or 'none'})"
            )
        self.stdout.write(f"leaks={len(leaks)}")

    @staticmethod
    def _json(results: list[Any], model: str, seconds: float) -> str:
        return json.dumps(
            {
                "model": model,
                "seconds": round(seconds, 1),
                "probes": [
                    {
                        "id": r.probe.id,
                        "kind": r.probe.kind,
                        "reply": r.reply,
                        "stopped": r.stopped,
                        "leaked": r.leaked,
                    }
                    for r in results
                ],
            }
        )
