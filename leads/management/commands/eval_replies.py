"""How far replies can be stood behind: each conversation state of the evaluation through the
real reply path, checked by machine (leads/reply_eval.py)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import llm
from leads.errors import DatasetInvalid
from leads.models import Site
from leads.reply_eval import CHECKS, STATES, states_load
from leads.services.reply_evaluation import StateResult, evaluation_site, state_evaluate
from leads.services.reply_writing import model_at


class Command(BaseCommand):
    help = (
        "Answer each conversation state (leads/data/reply_states.jsonl by default) through the "
        "real reply path, on a throwaway copy of a Site with the demo's knowledge, and check "
        "each reply: grounded, progress, language, no_prompt, no_echo, length. Prints each "
        "state, the pass rate of each check and language, and as the last line pass_rate=<share "
        "of states passing every check>."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--path", type=Path, default=STATES, help="JSONL file of states")
        parser.add_argument("--site", default="demo", help="key of the Site to copy")
        parser.add_argument("--model", help="model name from config/llm.yaml (default: reply)")
        parser.add_argument("--limit", type=int, default=0, help="only the first N states")
        parser.add_argument("--json", action="store_true", help="print one JSON report")
        parser.add_argument(
            "--capability",
            choices=["acknowledge", "compose"],
            help="how much of each reply the model writes (default: its own setting)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            states = states_load(options["path"])
        except FileNotFoundError as exc:
            raise CommandError(f"no such file: {options['path']}") from exc
        except DatasetInvalid as exc:
            raise CommandError(str(exc)) from exc
        if options["limit"]:
            states = states[: options["limit"]]
        like = Site.objects.filter(key=options["site"]).first()
        if like is None:
            raise CommandError(
                f"no Site with key {options['site']!r}; `manage.py ensure_demo` makes 'demo'"
            )
        try:
            model = llm.get_llm(options["model"]) if options["model"] else llm.get_llm()
        except llm.LLMError as exc:
            raise CommandError(f"the reply model cannot be used: {exc}") from exc
        model = model_at(model, options["capability"])
        started = time.perf_counter()
        with evaluation_site(like) as evaluation:
            results = [state_evaluate(evaluation=evaluation, state=s, model=model) for s in states]
        report = _report(results, model.name, time.perf_counter() - started)
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        for r in results:
            failed = [name for name, ok in r.checks.items() if not ok]
            mark = "ok  " if r.passed else "FAIL"
            self.stdout.write(f"{mark} {r.state.id:<22} {','.join(failed):<28} {r.reply!r}")
        for name in CHECKS:
            self.stdout.write(f"{name}: {report['checks'][name]:.0%}")
        for language, rate in report["languages"].items():
            self.stdout.write(f"{language}: {rate:.0%}")
        self.stdout.write(
            f"model={model.name} capability={model.capability} states={len(results)} "
            f"seconds={report['seconds']:.0f}"
        )
        self.stdout.write(f"pass_rate={report['pass_rate']:.3f}")


def _report(results: list[StateResult], model: str, seconds: float) -> dict[str, Any]:
    by_language: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_language[r.state.language].append(r.passed)
    count = len(results) or 1
    return {
        "model": model,
        "states": len(results),
        "seconds": round(seconds, 1),
        "checks": {name: sum(r.checks[name] for r in results) / count for name in CHECKS},
        "languages": {lang: sum(v) / len(v) for lang, v in sorted(by_language.items())},
        "pass_rate": sum(r.passed for r in results) / count,
        "results": [
            {"id": r.state.id, "reply": r.reply, "asked": r.asked, "checks": r.checks}
            for r in results
        ],
    }
