from __future__ import annotations

from collections.abc import Iterator

import pytest

from llm import BaseLLM, ModelConfig, Options, registry
from tests.llm.engines import Engine
from tests.llm.ollama_server import OllamaServer, closed_url


@pytest.fixture(scope="session")
def ollama_engine() -> Iterator[Engine]:
    # No Ollama runs here: a local server speaks its wire format, generating with the bundled GGUF.
    with OllamaServer() as server:
        config = ModelConfig(
            backend="ollama",
            name=server.model_name,
            model=server.model_name,
            base_url=server.url,
            n_ctx=1024,
            defaults=Options(max_tokens=48),
        )
        model = registry.build(config)

        def unavailable() -> BaseLLM:
            return registry.build(config.model_copy(update={"base_url": closed_url()}))

        yield Engine(
            model=model,
            unavailable=unavailable,
            context_window=1024,
        )
        model.close()
