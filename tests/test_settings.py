"""Bad configuration stops start-up with a message that names what to fix."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _check(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("value", ["lots", "12.5"])
def test_a_malformed_number_names_the_variable(value):
    result = _check(CHAT_MAX_MESSAGE_CHARS=value)
    assert result.returncode != 0
    assert f"CHAT_MAX_MESSAGE_CHARS={value!r} is not valid" in result.stderr


def test_production_mode_requires_a_secret_key():
    result = _check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_mode_with_a_key_starts():
    assert _check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="k" * 50).returncode == 0
