"""Score lead extraction against annotated conversations: per-field P/R/F1, then micro F1."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError

import llm
from leads.errors import DatasetInvalid
from leads.extraction.evaluation import Example, Report, evaluate, examples_load
from leads.extraction.pipeline import MODES, Mode, conversation_extract


class Command(BaseCommand):
    help = (
        "Run the real extraction path over each conversation of a JSONL file (the format of "
        "leads_dev.jsonl) and print per-field precision, recall and F1, the conversations it "
        "got wrong, and as the last line micro_f1=<value>."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", type=Path, help="JSONL file of annotated conversations")
        parser.add_argument("--extractor", choices=MODES, default="hybrid")
        parser.add_argument(
            "--model",
            help="model name from config/llm.yaml (default: the extraction role's model)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON report")

    def handle(
        self, *args: Any, path: Path, extractor: str, model: str | None, json: bool, **_: Any
    ) -> None:
        try:
            examples = examples_load(path)
        except FileNotFoundError as exc:
            raise CommandError(f"no such file: {path}") from exc
        except DatasetInvalid as exc:
            raise CommandError(str(exc)) from exc
        engine = None
        if extractor != "rules":
            try:
                engine = llm.get_llm(model) if model else llm.get_llm(role="extraction")
            except llm.LLMError as exc:
                raise CommandError(f"the extraction model cannot be used: {exc}") from exc

        def run(example: Example) -> Any:
            return conversation_extract(
                example.turns,
                region=example.region,
                extractor=cast(Mode, extractor),  # argparse took it from MODES
                model=engine,
            )

        started = time.perf_counter()
        report = evaluate(examples, run)
        seconds = time.perf_counter() - started
        if json:
            data = report.as_dict() | {
                "extractor": extractor,
                "model": engine.name if engine else None,
                "seconds": round(seconds, 2),
            }
            self.stdout.write(_dumps(data))
            return
        self._print(report, extractor, engine, seconds)

    def _print(
        self, report: Report, extractor: str, engine: llm.BaseLLM | None, seconds: float
    ) -> None:
        write = self.stdout.write
        where = f" with {engine.name}" if engine else ""
        write(f"{report.conversations} conversations, {extractor} extractor{where}, {seconds:.1f}s")
        write(
            f"{'field':<18} {'precision':>9} {'recall':>7} {'f1':>6} {'tp':>4} {'fp':>4} {'fn':>4}"
        )
        for name, score in report.fields.items():
            write(
                f"{name:<18} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>6.3f} "
                f"{score.tp:>4} {score.fp:>4} {score.fn:>4}"
            )
        if report.wrong:
            write("\nwrong:")
            for conversation, mistakes in report.wrong.items():
                details = ", ".join(
                    f"{m.field}: expected {m.expected!r}, got {m.got!r}" for m in mistakes
                )
                write(f"  {conversation}: {details}")
        micro = report.micro
        write(f"\nmicro_precision={micro.precision:.3f} micro_recall={micro.recall:.3f}")
        write(f"micro_f1={micro.f1:.3f}")


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
