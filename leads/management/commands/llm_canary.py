from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import llm
from leads.services.canary import CanaryReport, Side, canary_run
from llm.bundled import bundled_model_path
from llm.embeddings import Embedder, EmbeddingSettings, embedder


def _number(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


class Command(BaseCommand):
    help = (
        "Replay recent recorded conversations on a candidate model, side by side with the "
        "serving one: reply similarity, extraction F1 against the leads' facts, speed, errors."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--candidate", required=True, help="a model of config/llm.yaml")
        parser.add_argument("--conversations", type=int, default=20, help="how many (newest)")
        parser.add_argument("--site", help="one Site's conversations (its key); default: all")
        parser.add_argument(
            "--embedding", type=Path, default=None,
            help="all-MiniLM-L6-v2's folder for the similarity (default: the models folder's); "
            "without it, characters are compared",
        )  # fmt: skip

    def handle(
        self, *args: Any, candidate: str, conversations: int, site: str | None,
        embedding: Path | None, **options: Any,
    ) -> None:  # fmt: skip
        if conversations < 1:
            raise CommandError("--conversations must be 1 or more")
        try:
            challenger = llm.get_llm(candidate)
            serving = llm.get_llm(role="reply")
            extraction = llm.get_llm(role="extraction")
        except llm.LLMError as exc:
            raise CommandError(str(exc)) from exc
        measure: Embedder | None
        try:
            measure = embedder(EmbeddingSettings(model_path=embedding), bundled_model_path())
        except llm.LLMError as exc:
            self.stderr.write(f"similarity by characters: {exc}")
            measure = None
        report = canary_run(
            candidate=challenger,
            serving=serving,
            serving_extraction=extraction,
            conversations=conversations,
            site_key=site,
            embedder=measure,
            progress=lambda line: self.stderr.write(line),
        )
        if not report.conversations:
            raise CommandError("no recorded conversation with a reply to replay")
        self._print(report)

    def _print(self, report: CanaryReport) -> None:
        out = self.stdout.write
        s, c = report.serving, report.candidate
        out(f"{report.conversations} conversations, {s.replies} replies replayed")
        out(f"{'':<36}{'serving':>20}{'candidate':>20}")
        out(f"{'model':<36}{s.model[:19]:>20}{c.model[:19]:>20}")

        def row(label: str, value: Any) -> None:
            out(f"{label:<36}{value(s):>20}{value(c):>20}")

        row(f"reply similarity ({report.measure.split(' (')[0]})",
            lambda x: _number(x.mean(x.similarity), ".3f"))  # fmt: skip
        row("extraction F1", lambda x: _number(x.extraction.micro.f1, ".3f"))
        row("extraction precision", lambda x: _number(x.extraction.micro.precision, ".3f"))
        row("extraction recall", lambda x: _number(x.extraction.micro.recall, ".3f"))
        row("first token, mean s", lambda x: _number(x.mean(x.first_token_s), ".2f"))
        row("tokens/s, mean", lambda x: _number(x.mean(x.tokens_per_second), ".1f"))
        row("replies the model wrote part of", lambda x: str(x.model_parts))
        row("its sentences withheld", lambda x: str(x.withheld))
        row("errors", lambda x: str(len(x.errors)))
        for side in (s, c):
            for error in side.errors[:5]:
                out(f"  {side.model}: {error}")
        self._verdict(s, c)

    def _verdict(self, s: Side, c: Side) -> None:
        worse = []
        if len(c.errors) > len(s.errors):
            worse.append("more errors")
        if (c.mean(c.similarity) or 0) < (s.mean(s.similarity) or 0) - 0.05:
            worse.append("replies further from those sent")
        if c.extraction.micro.f1 < s.extraction.micro.f1 - 0.05:
            worse.append("a lower extraction F1")
        self.stdout.write(
            "candidate: " + (f"worse ({', '.join(worse)})" if worse else "no worse than serving")
        )
