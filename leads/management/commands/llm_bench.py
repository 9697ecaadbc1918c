"""`python manage.py llm_bench`: each configured model's speed here (llm/benchmark.py)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import llm
from llm import benchmark
from llm.settings import load_settings


class Command(BaseCommand):
    help = (
        "Measure each configured model here: load time, memory, prefill and decode tokens/s, "
        "the first token cold and on a second turn, decoding under a JSON schema; and the "
        "machine's memory bandwidth with the decode ceiling it implies."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--model",
            action="append",
            help="a model name from config/llm.yaml (repeat for several; default: every model a "
            "role uses)",
        )
        parser.add_argument("--prompt-tokens", type=int, default=512)
        parser.add_argument("--decode-tokens", type=int, default=128)
        parser.add_argument(
            "--bandwidth-mb", type=int, default=512, help="size of the memory read test"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            settings = load_settings()
            names = opts["model"] or sorted(
                {settings.for_role(role).name for role in ("reply", "extraction", "summary")}
            )
            configs = [settings.model(name) for name in names]
        except llm.LLMError as exc:
            raise CommandError(str(exc)) from exc
        if opts["prompt_tokens"] < 16 or opts["decode_tokens"] < 2:
            raise CommandError("--prompt-tokens must be at least 16 and --decode-tokens 2")
        print("measuring memory bandwidth…", end="", file=sys.stderr, flush=True)
        machine = benchmark.machine_report(megabytes=opts["bandwidth_mb"])
        progress = benchmark.stderr_progress(len(configs))
        reports = []
        for index, config in enumerate(configs, start=1):
            try:
                reports.append(
                    benchmark.model_report(
                        config,
                        machine=machine,
                        prompt_tokens=opts["prompt_tokens"],
                        decode_tokens=opts["decode_tokens"],
                        progress=progress(index, config.name),
                    )
                )
            except llm.LLMError as exc:
                raise CommandError(f"{config.name}: {exc}") from exc
        print("\r\033[K", end="", file=sys.stderr, flush=True)
        if opts["json"]:
            self.stdout.write(json.dumps(benchmark.report_dicts(machine, reports)))
        else:
            self.stdout.write(benchmark.table(machine, reports))
