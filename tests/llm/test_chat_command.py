"""`manage.py chat` with the bundled model: one-shot, and the REPL through a pseudo-terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
MANAGE = [sys.executable, str(ROOT / "manage.py"), "chat", "--greedy", "--max-tokens", "12"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SALESBOT_VAR_DIR": str(tmp_path),
        "LLM_MODELS_DIR": str(ROOT / "models"),
        "TERM": "dumb",
    }


def test_a_one_shot_prompt_is_answered_by_the_bundled_model(env):
    result = subprocess.run(
        [*MANAGE, "--prompt", "Name a colour."],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_a_bad_option_is_a_clear_error(env):
    result = subprocess.run(
        [*MANAGE, "--temperature", "9", "--prompt", "hi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "temperature" in result.stderr


def _spawn(env: dict[str, str], *extra: str) -> pexpect.spawn:
    child = pexpect.spawn(
        MANAGE[0], [*MANAGE[1:], *extra], cwd=str(ROOT), env=env, encoding="utf-8", timeout=120
    )
    child.expect("/help for commands")
    child.expect_exact("you> ")
    return child


def _do(child: pexpect.spawn, line: str, expect: str) -> None:
    child.sendline(line)
    child.expect_exact(expect)
    child.expect_exact("you> ")


def test_the_repl_commands_and_a_session_that_persists_between_runs(env, tmp_path: Path):
    child = _spawn(env, "--session-id", "demo", "--system", "Be brief.")
    _do(child, "/help", "/history   the conversation so far")
    _do(child, "Hello!", "bot> ")
    _do(child, "/history", "user: Hello!")
    _do(child, "/stream", "streaming off")
    _do(child, "And goodbye.", "bot> ")
    _do(child, "/save", "saved to")
    _do(child, "/nope", "unknown command /nope")
    child.sendline("/exit")
    child.expect_exact("session demo saved")
    child.expect(pexpect.EOF)

    saved = json.loads((tmp_path / "chat-sessions" / "demo.json").read_text())
    assert saved["system"] == "Be brief."
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant"] * 2
    assert saved["messages"][0]["content"] == "Hello!"

    again = _spawn(env, "--session-id", "demo")
    _do(again, "/history", "user: And goodbye.")
    _do(again, "/clear", "conversation cleared")
    _do(again, "/history", "(no messages yet)")
    again.sendline("/quit")
    again.expect(pexpect.EOF)
    assert json.loads((tmp_path / "chat-sessions" / "demo.json").read_text())["messages"] == []


def test_ctrl_d_saves_and_exits(env, tmp_path: Path):
    child = _spawn(env, "--session-id", "eof")
    child.sendeof()
    child.expect_exact("session eof saved")
    child.expect(pexpect.EOF)
    assert (tmp_path / "chat-sessions" / "eof.json").is_file()
