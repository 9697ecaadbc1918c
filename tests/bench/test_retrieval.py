"""bench/retrieval.py runs end to end on its three databases and reports what it promises
(never how fast)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow]


def test_the_benchmark_times_retrieval_where_the_vectors_are_compared(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "retrieval.py"), "--passages", "30",
         "--queries", "3", "--json"],
        cwd=ROOT, env=env | {"HOME": str(tmp_path)}, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert {name: r["in_database"] for name, r in report.items()} == {
        "sqlite, compared by the worker": False,
        "postgresql, compared by pgvector": True,
        "postgresql, compared by the worker": False,
    }
    for r in report.values():
        assert r["passages"] == 30 and 0 < r["median_ms"] <= r["p95_ms"]
