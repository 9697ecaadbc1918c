"""Scoring extraction against annotated conversations."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from leads.errors import DatasetInvalid
from leads.extraction.evaluation import Example, Report, evaluate, examples_load
from leads.extraction.facts import Turn, Value
from leads.extraction.pipeline import conversation_extract

CONVERSATION = {
    "id": "t-1",
    "default_region": "GB",
    "messages": [
        {"role": "assistant", "text": "Hello!"},
        {"role": "visitor", "text": "Hi, I'm Ada. We need 5 seats."},
    ],
    "expected": {"name": "Ada", "seats": 5},
}


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "leads.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _example(expected: dict[str, Value]) -> Example:
    return Example(id="c", region="US", turns=[Turn(0, "visitor", "hi")], expected=expected)


def test_examples_load_reads_turns_region_and_expected_facts(tmp_path: Path) -> None:
    [example] = examples_load(_file(tmp_path, json.dumps(CONVERSATION)))
    assert example == Example(
        id="t-1",
        region="GB",
        turns=[Turn(0, "assistant", "Hello!"), Turn(1, "visitor", "Hi, I'm Ada. We need 5 seats.")],
        expected={"name": "Ada", "seats": 5},
    )


def test_examples_load_skips_blank_lines(tmp_path: Path) -> None:
    path = _file(tmp_path, "", json.dumps(CONVERSATION), "   ", json.dumps(CONVERSATION))
    assert len(examples_load(path)) == 2


def test_example_without_region_or_expected_facts_defaults_to_us_and_none(tmp_path: Path) -> None:
    line = json.dumps({"id": "t-2", "messages": [{"role": "visitor", "text": "hi"}]})
    [example] = examples_load(_file(tmp_path, line))
    assert (example.region, example.expected) == ("US", {})


@pytest.mark.parametrize(
    "bad_line",
    [
        "{not json",
        json.dumps({"id": "x"}),
        json.dumps({"id": "x", "messages": [{"role": "visitor"}]}),
        json.dumps(["a", "list"]),
    ],
)
def test_bad_line_error_names_the_line_and_the_expected_shape(
    tmp_path: Path, bad_line: str
) -> None:
    path = _file(tmp_path, json.dumps(CONVERSATION), bad_line)
    with pytest.raises(DatasetInvalid) as error:
        examples_load(path)
    message = str(error.value)
    assert message.startswith(f"{path}:2: not a conversation")
    assert '"messages": [{"role", "text"}]' in message


def test_unknown_role_error_names_the_role_and_the_known_ones(tmp_path: Path) -> None:
    line = json.dumps({"id": "x", "messages": [{"role": "customer", "text": "hi"}]})
    path = _file(tmp_path, line)
    with pytest.raises(
        DatasetInvalid, match=r":1: unknown role 'customer' \(visitor or assistant\)"
    ):
        examples_load(path)


def test_unknown_field_error_names_the_field_and_the_known_ones(tmp_path: Path) -> None:
    line = json.dumps(
        {"id": "x", "messages": [{"role": "visitor", "text": "hi"}], "expected": {"budget": 5}}
    )
    path = _file(tmp_path, line)
    with pytest.raises(DatasetInvalid, match=r":1: unknown field 'budget'; known: name, email, "):
        examples_load(path)


def test_dataset_error_is_a_value_error() -> None:
    assert issubclass(DatasetInvalid, ValueError)


def _scored(expected: dict[str, Value], got: dict[str, Value]) -> Report:
    report = Report()
    report.add(_example(expected), got)
    return report


def _counts(report: Report, field: str) -> tuple[int, int, int]:
    score = report.fields[field]
    return score.tp, score.fp, score.fn


def test_right_value_is_a_true_positive() -> None:
    assert _counts(_scored({"seats": 5}, {"seats": 5}), "seats") == (1, 0, 0)


@pytest.mark.parametrize(
    ("field", "want", "got"),
    [
        ("company", "Lumen Labs Inc.", "lumen labs inc"),
        ("budget_amount", 20000, Decimal("20000.00")),
        ("is_decision_maker", False, False),
    ],
)
def test_same_value_in_another_spelling_is_a_true_positive(
    field: str, want: Value, got: Value
) -> None:
    assert _counts(_scored({field: want}, {field: got}), field) == (1, 0, 0)


def test_extracted_key_the_annotation_lacks_is_a_false_positive() -> None:
    assert _counts(_scored({}, {"seats": 5}), "seats") == (0, 1, 0)


def test_missed_value_is_a_false_negative() -> None:
    assert _counts(_scored({"seats": 5}, {}), "seats") == (0, 0, 1)


def test_wrong_value_is_both_a_false_positive_and_a_false_negative() -> None:
    assert _counts(_scored({"seats": 5}, {"seats": 6}), "seats") == (0, 1, 1)


def test_false_is_not_the_same_as_absent() -> None:
    report = _scored({"is_decision_maker": False}, {})
    assert _counts(report, "is_decision_maker") == (0, 0, 1)


def test_field_neither_annotated_nor_extracted_is_not_counted() -> None:
    assert _counts(_scored({}, {}), "email") == (0, 0, 0)


def test_mistakes_are_listed_per_conversation() -> None:
    report = _scored({"seats": 5, "name": "Ada"}, {"seats": 6, "name": "Ada"})
    assert [(m.field, m.expected, m.got) for m in report.wrong["c"]] == [("seats", 5, 6)]


def test_micro_f1_pools_the_counts_of_all_fields() -> None:
    # name: tp; seats: fp + fn; email: tp; phone: fp  ->  tp 2, fp 2, fn 1
    report = _scored(
        {"name": "Ada", "seats": 5, "email": "ada@lumen.io"},
        {"name": "Ada", "seats": 6, "email": "ada@lumen.io", "phone": "+14155550134"},
    )
    micro = report.micro
    assert (micro.tp, micro.fp, micro.fn) == (2, 2, 1)
    assert micro.f1 == pytest.approx(2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3))


def test_scores_with_nothing_to_find_and_nothing_found_are_perfect() -> None:
    micro = Report().micro
    assert (micro.precision, micro.recall) == (1.0, 1.0)


def test_f1_is_zero_when_nothing_is_right() -> None:
    assert _scored({"seats": 5}, {"seats": 6}).micro.f1 == 0.0


def test_evaluate_scores_what_extraction_settles_on(tmp_path: Path) -> None:
    examples = examples_load(_file(tmp_path, json.dumps(CONVERSATION)))
    report = evaluate(
        examples, lambda ex: conversation_extract(ex.turns, region=ex.region, extractor="rules")
    )
    assert (report.conversations, report.micro.tp, report.micro.f1) == (1, 2, 1.0)


def test_report_as_dict_is_plain_json() -> None:
    report = _scored({"budget_amount": 20000}, {"budget_amount": Decimal("19999.50")})
    data = json.loads(json.dumps(report.as_dict()))
    assert data["wrong"]["c"] == [
        {"field": "budget_amount", "expected": 20000, "got": 19999.5},
    ]
