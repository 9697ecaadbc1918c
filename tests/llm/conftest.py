"""Every engine fixture in tests/llm/engines/, for the contract suite."""

from __future__ import annotations

import importlib
from pathlib import Path

_ENGINE_DIR = Path(__file__).parent / "engines"
ENGINES: list[str] = []
for _path in sorted(_ENGINE_DIR.glob("*.py")):
    if _path.stem == "__init__":
        continue
    _module = importlib.import_module(f"tests.llm.engines.{_path.stem}")
    _name = f"{_path.stem}_engine"
    globals()[_name] = getattr(_module, _name)
    ENGINES.append(_name)
