"""manage.py eval_extraction: the number the issue asks for, from the real extraction path."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

HELDOUT = Path(__file__).resolve().parent.parent / "data" / "leads_heldout.jsonl"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    lines = [
        {
            "id": "right",
            "default_region": "GB",
            "messages": [
                {"role": "assistant", "text": "Hello! How can I help?"},
                {"role": "visitor", "text": "I'm Ada Byrne, CTO at Larch Labs. 14 seats please."},
            ],
            "expected": {
                "name": "Ada Byrne",
                "company": "Larch Labs",
                "job_title": "CTO",
                "seats": 14,
            },
        },
        {
            "id": "wrong",
            "default_region": "US",
            "messages": [{"role": "visitor", "text": "We need 9 licenses, email me: bo@kiln.io"}],
            "expected": {"seats": 12, "email": "bo@kiln.io"},
        },
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def _run(*args: str) -> str:
    out = StringIO()
    call_command("eval_extraction", *args, stdout=out)
    return out.getvalue()


def test_the_last_line_is_the_micro_f1_over_all_fields(dataset):
    output = _run(str(dataset), "--extractor", "rules")
    # 5 right; seats 9 for 12 is a false positive and a false negative: P = R = 5/6.
    assert output.strip().splitlines()[-1] == "micro_f1=0.833"
    assert "seats                  0.500   0.500  0.500    1    1    1" in output


def test_the_conversations_it_got_wrong_are_listed(dataset):
    output = _run(str(dataset), "--extractor", "rules")
    assert "  wrong: seats: expected 12, got 9" in output
    assert "  right:" not in output


def test_json_gives_the_same_numbers_for_machines(dataset):
    report = json.loads(_run(str(dataset), "--extractor", "rules", "--json"))
    assert report["micro_f1"] == pytest.approx(5 / 6)
    assert report["fields"]["email"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "tp": 1,
        "fp": 0,
        "fn": 0,
    }
    assert report["wrong"] == {"wrong": [{"field": "seats", "expected": 12, "got": 9}]}


def test_the_rules_meet_their_target_on_the_held_out_set():
    output = _run(str(HELDOUT), "--extractor", "rules")
    assert float(output.strip().splitlines()[-1].split("=")[1]) >= 0.80


@pytest.mark.slow
def test_the_hybrid_runs_the_bundled_model(dataset):
    report = json.loads(_run(str(dataset), "--extractor", "hybrid", "--model", "local", "--json"))
    assert report["model"] == "local"
    assert report["micro_f1"] >= 5 / 6  # the quote check keeps the model from making it worse


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _run(str(tmp_path / "nope.jsonl"), "--extractor", "rules")


def test_a_malformed_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "messages": [], "expected": {}}\n{"id": "b", "messages": 3}\n')
    with pytest.raises(CommandError, match=r"bad.jsonl:2: not a conversation"):
        _run(str(path), "--extractor", "rules")


def test_an_unknown_model_is_a_clear_error(dataset):
    with pytest.raises(CommandError, match="the extraction model cannot be used"):
        _run(str(dataset), "--extractor", "model", "--model", "no-such-model")
