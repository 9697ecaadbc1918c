"""bench/reply_turns.py runs end to end and reports what it promises (never how fast)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_benchmark_times_each_turn_through_the_real_processes(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LLM_MAX_NEW_TOKENS": "16"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "reply_turns.py"), "--turns", "2", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)  # stdout is the result alone: the processes log to stderr
    assert len(report["turns"]) == 2
    for turn in report["turns"]:
        assert 0 < turn["ack_ms"] <= turn["first_delta_ms"] <= turn["reply_ms"]
        assert turn["reply_chars"] > 0
    assert set(report["summary"]) == {"ack_ms", "first_delta_ms", "reply_ms", "reply_chars"}
