"""Hot swap (llm.registry.refresh): a changed settings file takes effect between calls."""

from __future__ import annotations

import os
from pathlib import Path

from llm import FailoverLLM, registry
from llm.backends.fake import FakeLLM

BEFORE = (
    "default_model: a\nmodels:\n  a: {backend: fake}\n  b: {backend: fake}\n"
    "roles:\n  reply: [a, b]\n  extraction: a\n"
)


def _rewrite(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a later change


def test_a_changed_file_takes_effect_and_unchanged_models_stay_loaded(configured, tmp_path: Path):
    configured(BEFORE)
    path = Path(os.environ["LLM_CONFIG"])
    chain = registry.get_llm(role="reply")
    assert isinstance(chain, FailoverLLM) and chain.name == "a > b"
    a = registry.get_llm("a")
    assert registry.refresh() is False  # nothing changed
    _rewrite(path, BEFORE.replace("  reply: [a, b]", "  reply: [b]").replace(
        "  b: {backend: fake}", "  b: {backend: fake, defaults: {temperature: 0.1}}"
    ))  # fmt: skip
    assert registry.refresh() is True
    reply = registry.get_llm(role="reply")
    assert isinstance(reply, FakeLLM) and reply.defaults.temperature == 0.1  # b, as changed
    assert registry.get_llm("a") is a  # unchanged: not loaded again
    assert chain.complete([]).text  # one that held the old chain ends its call on it


def test_a_file_that_no_longer_reads_changes_nothing(configured, caplog):
    configured(BEFORE)
    path = Path(os.environ["LLM_CONFIG"])
    before = registry.get_llm(role="reply")
    _rewrite(path, BEFORE.replace("  reply: [a, b]", "  reply: [a, nope]"))
    assert registry.refresh() is False
    assert registry.get_llm(role="reply") is before
    assert "cannot be used, so nothing changes" in caplog.text and "nope" in caplog.text
    assert registry.refresh() is False  # said once, not before every task
