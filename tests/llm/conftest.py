"""Every engine fixture in tests/llm/engines/, for the contract suite; a settings file."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from llm import registry

_ENGINE_DIR = Path(__file__).parent / "engines"
ENGINES: list[str] = []
for _path in sorted(_ENGINE_DIR.glob("*.py")):
    if _path.stem == "__init__":
        continue
    _module = importlib.import_module(f"tests.llm.engines.{_path.stem}")
    _name = f"{_path.stem}_engine"
    globals()[_name] = getattr(_module, _name)
    ENGINES.append(_name)


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Model settings from a file, as a worker reads them (`LLM_CONFIG`)."""

    def write(text: str) -> None:
        path = tmp_path / "llm.yaml"
        path.write_text(text)
        monkeypatch.setenv("LLM_CONFIG", str(path))
        registry.reset()

    yield write
    registry.reset()
