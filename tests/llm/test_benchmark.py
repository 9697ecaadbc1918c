"""llm/benchmark.py measures through BaseLLM and reports what it could not tell as None."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from llm import ModelConfig
from llm.benchmark import (
    MachineReport,
    machine_report,
    memory_read_bandwidth,
    model_report,
    report_dicts,
    table,
)

MACHINE = MachineReport(cores=2, memory_read_gb_s=10.0)


def test_the_memory_bandwidth_is_measured_in_bytes_per_second():
    assert memory_read_bandwidth(megabytes=16, repeats=2) > 1e8  # any machine reads 100 MB/s


def test_the_machine_report_names_its_cores():
    machine = machine_report(megabytes=16)
    assert machine.cores >= 1 and machine.memory_read_gb_s > 0


def test_a_model_is_built_afresh_and_measured_through_its_streams():
    report = model_report(
        ModelConfig(name="scripted", backend="fake"),
        machine=MACHINE,
        prompt_tokens=40,
        decode_tokens=12,
    )
    assert (report.name, report.backend) == ("scripted", "fake")
    assert report.prompt_tokens >= 40  # the filler reaches the asked size
    assert report.decode_tokens == 12  # the scripted model echoes the prompt, word by word
    assert report.cold_first_token_s is not None and report.second_turn_first_token_s is not None
    assert report.second_turn_vs_cold is not None
    # No schema constraint, no weights file: those figures are unknown, not zero.
    assert report.schema_decode_tok_s is None and report.schema_vs_plain is None
    assert report.weights_mb is None and report.decode_ceiling_tok_s is None


def test_unknown_figures_print_as_dashes_and_stay_null_in_json():
    report = model_report(
        ModelConfig(name="scripted", backend="fake"), machine=MACHINE, prompt_tokens=20
    )
    text = table(MACHINE, [report])
    assert "machine: 2 cores, memory read 10.0 GB/s" in text
    ceiling = next(line for line in text.splitlines() if line.startswith("decode ceiling"))
    assert ceiling.split()[-1] == "-"
    data = report_dicts(MACHINE, [report])
    assert data["models"][0]["decode_ceiling_tok_s"] is None
    assert data["machine"] == {"cores": 2, "memory_read_gb_s": 10.0}


@pytest.mark.parametrize(("prompt", "decode"), [(8, 8), (64, 1)])
def test_the_command_refuses_sizes_too_small_to_measure(prompt, decode):
    with pytest.raises(CommandError, match="at least"):
        call_command("llm_bench", "--prompt-tokens", str(prompt), "--decode-tokens", str(decode))
