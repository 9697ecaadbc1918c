from __future__ import annotations

from pathlib import Path

import pytest

from llm import ModelConfig, Options, registry
from tests.llm.engines import Engine

MODELS = Path(__file__).resolve().parents[3] / "models"
BUNDLED = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def llama_cpp_engine() -> Engine:
    config = ModelConfig(model_path=BUNDLED, n_ctx=1024, defaults=Options(max_tokens=48))
    return Engine(
        model=registry.build(config),
        unavailable=lambda: registry.build(ModelConfig(model_path=MODELS / "absent.gguf")),
        context_window=1024,
    )
