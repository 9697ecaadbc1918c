"""Structured output: constrained decoding where the backend has it, validate-and-retry always."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from llm import ChatMessage, ExtractionFailed, ModelConfig, Options, registry
from llm.backends.fake import FakeLLM

MODELS = Path(__file__).resolve().parents[2] / "models"


class Lead(BaseModel):
    name: str | None = Field(None, description="The visitor's name")
    email: str | None = None
    company: str | None = None
    seats: int | None = Field(None, ge=1)


CHAT = [
    ChatMessage("system", "Extract the visitor's details as JSON. Use null for what is unknown."),
    ChatMessage("user", "Hi, I'm Jane Doe from Acme. We need 12 seats. jane@acme.com"),
]


def test_a_model_without_constraints_is_shown_the_schema_and_retried():
    model = FakeLLM(replies=['{"name": "Jane", "seats": 0}', '```json\n{"name": "Jane"}\n```'])
    lead = model.extract(CHAT, Lead)
    assert lead == Lead(name="Jane")
    first, second = model.prompts
    assert '"seats"' in first[-1].content  # the schema was shown
    assert "seats: Input should be greater than or equal to 1" in second[-1].content


def test_extraction_gives_up_with_a_typed_error():
    model = FakeLLM(replies=["not json"] * 3)
    with pytest.raises(ExtractionFailed, match="no valid Lead in 3 attempts"):
        model.extract(CHAT, Lead)


def test_extraction_is_greedy_unless_told_otherwise():
    model = FakeLLM(replies=['{"name": null}', '{"name": null}'])
    model.extract(CHAT, Lead)
    model.extract(CHAT, Lead, greedy=False)
    assert [o.greedy for o in model.options_seen] == [True, False]


@pytest.mark.slow
def test_llama_cpp_constrains_decoding_to_the_schema():
    model = registry.build(
        ModelConfig(
            model_path=MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf",
            n_ctx=1024,
            defaults=Options(max_tokens=96),
        )
    )
    assert model.supports_schema
    lead = model.extract(CHAT, Lead, attempts=1)
    assert isinstance(lead, Lead)  # a single attempt: the grammar made it valid
