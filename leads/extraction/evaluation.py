"""Scoring extraction against annotated conversations: per-field precision, recall and F1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from leads.errors import DatasetInvalid
from leads.extraction.facts import Turn, Value, same_value
from leads.extraction.merge import Resolution
from leads.fields import EVALUATED_FACTS


@dataclass(frozen=True)
class Example:
    id: str
    region: str
    turns: list[Turn]
    expected: dict[str, Value]


def examples_load(path: Path) -> list[Example]:
    """The conversations of a JSONL file in the format of leads_dev.jsonl."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
            turns = [
                Turn(id=i, role=m["role"], text=m["text"]) for i, m in enumerate(data["messages"])
            ]
            expected = data.get("expected") or {}
            if not isinstance(expected, dict):
                raise TypeError(f"expected is {type(expected).__name__}, not an object")
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise DatasetInvalid(
                f"{where}: not a conversation ({exc}); each line needs "
                '{"id", "messages": [{"role", "text"}], "expected": {…}}'
            ) from exc
        if bad := [t.role for t in turns if t.role not in ("visitor", "assistant")]:
            raise DatasetInvalid(f"{where}: unknown role {bad[0]!r} (visitor or assistant)")
        if unknown := sorted(set(expected) - set(EVALUATED_FACTS)):
            raise DatasetInvalid(
                f"{where}: unknown field {unknown[0]!r}; known: {', '.join(EVALUATED_FACTS)}"
            )
        examples.append(
            Example(
                id=str(data.get("id", number)),
                region=str(data.get("default_region") or "US"),
                turns=turns,
                expected=expected,
            )
        )
    return examples


@dataclass
class FieldScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Mistake:
    field: str
    expected: Value | None
    got: Value | None


@dataclass
class Report:
    fields: dict[str, FieldScore] = field(
        default_factory=lambda: {f: FieldScore() for f in EVALUATED_FACTS}
    )
    wrong: dict[str, list[Mistake]] = field(default_factory=dict)
    conversations: int = 0

    @property
    def micro(self) -> FieldScore:
        total = FieldScore()
        for score in self.fields.values():
            total.tp, total.fp, total.fn = (
                total.tp + score.tp,
                total.fp + score.fp,
                total.fn + score.fn,
            )
        return total

    def add(self, example: Example, got: dict[str, Value]) -> None:
        self.conversations += 1
        for name in EVALUATED_FACTS:
            want, have = example.expected.get(name), got.get(name)
            score = self.fields[name]
            if want is None and have is None:
                continue
            if want is not None and have is not None and same_value(name, want, have):
                score.tp += 1
                continue
            if have is not None:
                score.fp += 1
            if want is not None:
                score.fn += 1
            self.wrong.setdefault(example.id, []).append(Mistake(name, want, have))

    def as_dict(self) -> dict[str, object]:
        return {
            "conversations": self.conversations,
            "fields": {
                name: {
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.f1,
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                }
                for name, s in self.fields.items()
            },
            "wrong": {
                cid: [
                    {"field": m.field, "expected": _plain(m.expected), "got": _plain(m.got)}
                    for m in mistakes
                ]
                for cid, mistakes in self.wrong.items()
            },
            "micro_precision": self.micro.precision,
            "micro_recall": self.micro.recall,
            "micro_f1": self.micro.f1,
        }


def _plain(value: Value | None) -> object:
    return value if value is None or isinstance(value, (str, int, bool)) else float(value)


def evaluate(examples: Iterable[Example], run: Callable[[Example], Resolution]) -> Report:
    """Run extraction over each example and score what it settles on."""
    report = Report()
    for example in examples:
        report.add(example, run(example).values)
    return report
