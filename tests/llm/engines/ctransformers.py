from __future__ import annotations

import pytest

from llm import ModelConfig, Options, registry
from tests.llm.engines import Engine
from tests.llm.tiny_gguf import write_tiny_gguf

# Room for extract()'s JSON Schema instruction, which this byte-level vocabulary spells out.
N_CTX = 1024


@pytest.fixture(scope="session")
def ctransformers_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("ctransformers")
    model_path = write_tiny_gguf(folder / "tiny-random-llama.gguf")
    config = ModelConfig(
        name="tiny-random-llama",
        backend="ctransformers",
        model_path=model_path,
        n_ctx=N_CTX,
        n_threads=1,  # the model is tiny: more threads only wait on each other
        defaults=Options(max_tokens=32),
    )
    return Engine(
        model=registry.build(config),
        unavailable=lambda: registry.build(
            ModelConfig(backend="ctransformers", model_path=folder / "absent.gguf")
        ),
        context_window=N_CTX,
        coherent=False,
    )
