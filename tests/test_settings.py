"""Bad configuration stops start-up with a message that names what to fix."""

from __future__ import annotations

import os
import re
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


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`code` run after Django's setup, in a process with `env` over this one's."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMAIL_URL"))}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "salesbot.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debug_is_off_unless_asked_for(tmp_path):
    shown = "from django.conf import settings; print(settings.DEBUG)"
    assert _run(shown, SALESBOT_VAR_DIR=str(tmp_path)).stdout.split()[-1] == "False"
    asked = _run(shown, SALESBOT_VAR_DIR=str(tmp_path), DJANGO_DEBUG="true")
    assert asked.stdout.split()[-1] == "True"


def test_without_a_secret_key_one_is_made_per_installation_and_kept_private(tmp_path):
    shown = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = _run(shown, SALESBOT_VAR_DIR=str(tmp_path / "a")).stdout.split()[-1]
    again = _run(shown, SALESBOT_VAR_DIR=str(tmp_path / "a")).stdout.split()[-1]
    other = _run(shown, SALESBOT_VAR_DIR=str(tmp_path / "b")).stdout.split()[-1]
    assert first == again != other and len(first) >= 50
    assert (tmp_path / "a" / "secret-key").stat().st_mode & 0o777 == 0o600
    given = _run(shown, SALESBOT_VAR_DIR=str(tmp_path / "c"), DJANGO_SECRET_KEY="k" * 50)
    assert given.stdout.split()[-1] == "k" * 50 and not (tmp_path / "c" / "secret-key").exists()


def _deploy_check(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMAIL_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, "SALESBOT_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-production-key-" + "x" * 40,
    "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    "DJANGO_BEHIND_TLS_PROXY": "true",
    "EMAIL_URL": "smtp+tls://salesbot:pw@smtp.example.com:587",
}


def test_check_deploy_is_silent_under_the_production_settings(tmp_path):
    result = _deploy_check(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "warning"),
    [
        ({"DJANGO_BEHIND_TLS_PROXY": "false"}, "security.W004"),
        ({"DJANGO_SECURE_COOKIES": "false"}, "security.W012"),
        ({"EMAIL_URL": ""}, "salesbot.W001"),
        ({"DJANGO_DEBUG": "true"}, "security.W018"),
    ],
)
def test_check_deploy_names_each_unsafe_setting(tmp_path, change, warning):
    result = _deploy_check(tmp_path, **(PRODUCTION | change))
    assert result.returncode != 0 and warning in result.stderr


def test_every_environment_variable_of_the_settings_is_documented():
    """docs/configuration.md lists each variable salesbot/settings.py reads."""
    source = (ROOT / "salesbot" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    documented = (ROOT / "docs" / "configuration.md").read_text()
    assert read and {name for name in read if f"`{name}`" not in documented} == set()
