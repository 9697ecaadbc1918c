"""The transformers backend on the bundled GGUF, which transformers dequantizes, on the CPU."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llm import ModelConfig, Options, registry
from tests.llm.engines import Engine

# Tests never reach the Hugging Face Hub: everything they load is a local file.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODELS = Path(__file__).resolve().parents[3] / "models"
BUNDLED = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"


def transformers_config(**fields: object) -> ModelConfig:
    """The bundled GGUF through the transformers backend on the CPU, with `fields` on top."""
    base: dict[str, object] = {
        "backend": "transformers",
        "model_path": BUNDLED,
        "device": "cpu",
        "n_ctx": 1024,
        "defaults": Options(max_tokens=48),
    }
    return ModelConfig.model_validate(base | fields)


@pytest.fixture(scope="session")
def transformers_engine() -> Engine:
    return Engine(
        model=registry.build(transformers_config()),
        unavailable=lambda: registry.build(transformers_config(model_path=MODELS / "absent.gguf")),
        context_window=1024,
    )
