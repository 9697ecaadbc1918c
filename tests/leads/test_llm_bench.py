"""manage.py llm_bench on the bundled model through llama.cpp: every figure it promises."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.slow


def test_llm_bench_reports_the_configured_model_and_the_machine():
    out = StringIO()
    call_command(
        "llm_bench",
        "--json",
        "--prompt-tokens",
        "64",
        "--decode-tokens",
        "12",
        "--bandwidth-mb",
        "64",
        stdout=out,
    )
    report = json.loads(out.getvalue())
    assert report["machine"]["cores"] >= 1 and report["machine"]["memory_read_gb_s"] > 0
    [model] = report["models"]  # every role uses the one bundled model
    assert (model["name"], model["backend"]) == ("local", "llama_cpp")
    for key in (
        "load_s",
        "prefill_tok_s",
        "cold_first_token_s",
        "decode_tok_s",
        "second_turn_first_token_s",
        "schema_decode_tok_s",  # llama.cpp constrains to the schema with a grammar
        "weights_mb",
        "decode_ceiling_tok_s",
    ):
        assert model[key] is not None and model[key] > 0, key
    assert model["prompt_tokens"] >= 64 and model["decode_tokens"] >= 2


def test_llm_bench_names_the_known_models_when_asked_for_another():
    with pytest.raises(CommandError, match="unknown model 'nope'; known: local"):
        call_command("llm_bench", "--model", "nope")
