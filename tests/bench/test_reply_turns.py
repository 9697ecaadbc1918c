"""bench/reply_turns.py runs end to end and reports what it promises (never how fast)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _bench(tmp_path, *args: str) -> dict:
    """The benchmark's JSON report; stdout is the result alone, the processes log elsewhere."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LLM_MAX_NEW_TOKENS": "16"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "reply_turns.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_the_benchmark_times_each_turn_through_the_real_processes(tmp_path):
    report = _bench(tmp_path, "--turns", "2", "--json", "--raw", "--pairs", "2")
    turns = report["product"]["turns"]
    assert [(t["conversation"], t["turn"]) for t in turns] == [(1, 1), (1, 2)]
    for turn in turns:
        assert 0 < turn["ack_ms"] <= turn["first_delta_ms"] <= turn["reply_ms"]
        assert turn["reply_chars"] > 0 and turn["deltas"] > 0
        # The worker's own figures for that very reply, read from its log line.
        assert turn["model_first_token_ms"] is not None and turn["model_tokens"] > 0
    assert {"ack_ms", "first_delta_ms", "model_first_token_ms"} <= set(report["product"]["summary"])
    # The first turn started from the Site's system prompt, which the replies' worker had the
    # engine read as it started; the second from all that the engine evaluated for the first.
    first, second = turns
    assert 0 < first["reused_tokens"] < first["prompt_tokens"]
    assert first["prompt_tokens"] <= second["reused_tokens"] < second["prompt_tokens"]
    assert all(t["task_wait_ms"] is not None and t["finish"] for t in turns)
    # The engine alone and the product, twice in turn, each pair with its own ratio.
    assert len(report["pairs"]) == 2 and all(p["ratio"] > 0 for p in report["pairs"])
    assert [t["turn"] for t in report["raw"]["turns"]] == [1, 2]


def test_visitors_can_take_turns_and_each_keeps_their_conversation(tmp_path):
    report = _bench(
        tmp_path, "--turns", "2", "--conversations", "2", "--in-turn", "--cold", "--json"
    )
    assert report["product"]["in_turn"] is True and report["product"]["cold"] is True
    turns = {(t["conversation"], t["turn"]): t for t in report["product"]["turns"]}
    # One message at a time, in turn: ana, ben, ana, ben.
    order = [turns[key]["message_id"] for key in [(1, 1), (2, 1), (1, 2), (2, 2)]]
    assert order == sorted(order)
    for conversation in (1, 2):  # each second turn found its first turn's prompt kept
        first, second = turns[(conversation, 1)], turns[(conversation, 2)]
        assert second["reused_tokens"] >= first["prompt_tokens"], (first, second)
    # --cold: the Site came after the warm-up, so the first visitor read its prompt whole.
    assert turns[(1, 1)]["reused_tokens"] == 0, turns[(1, 1)]
