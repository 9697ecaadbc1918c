"""The transformers backend beyond the shared contract: devices, quantization, LoRA, sampling.

The model-loading tests share the session's `transformers_engine` (the bundled GGUF on the CPU);
only the LoRA test loads a second copy, because an adapter is attached at load time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model
from pydantic import BaseModel, Field
from transformers import AutoConfig, AutoModelForCausalLM

from llm import (
    BackendUnavailable,
    ChatMessage,
    Completion,
    GenerationFailed,
    InvalidOptions,
    ModelNotFound,
    registry,
)
from llm.backends.transformers import resolve_device
from llm.json_prefix import JsonPrefix
from tests.llm.engines import Engine
from tests.llm.engines.transformers import BUNDLED, MODELS, transformers_config

PROMPT = [
    ChatMessage("system", "You are a concise assistant."),
    ChatMessage("user", "Name three colours."),
]
HAS_GPU = torch.cuda.is_available() or torch.backends.mps.is_available()
no_gpu_here = pytest.mark.skipif(HAS_GPU, reason="checks what happens on a machine without a GPU")


@pytest.fixture
def one_cuda_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make torch report one CUDA GPU: only the checks made before loading can run without one."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_cpu_is_used_when_asked_for():
    assert resolve_device("cpu") == "cpu"


@no_gpu_here
def test_auto_falls_back_to_the_cpu_without_a_gpu():
    assert resolve_device("auto") == "cpu"


@no_gpu_here
@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_an_absent_gpu_is_unavailable_with_the_fix(device):
    config = transformers_config(device=device)
    for check in (registry.preflight, registry.build):
        with pytest.raises(BackendUnavailable, match=rf"LLM_DEVICE={device}.*LLM_DEVICE=cpu"):
            check(config)


def test_cuda_device_picks_among_the_visible_gpus(one_cuda_device):
    assert resolve_device("cuda", 0) == "cuda:0"
    assert resolve_device("auto", None) == "cuda:0"
    with pytest.raises(BackendUnavailable, match=r"cuda_device=1.*CUDA_VISIBLE_DEVICES"):
        resolve_device("cuda", 1)


def test_a_backend_options_typo_is_rejected():
    config = transformers_config(backend_options={"cuda_devce": 0})
    for check in (registry.preflight, registry.build):
        with pytest.raises(InvalidOptions, match=r"cuda_devce.*accepted keys: cuda_device"):
            check(config)


@no_gpu_here
@pytest.mark.parametrize("bits", [4, 8])
def test_quantization_without_cuda_is_unavailable(bits):
    config = transformers_config(quant_bits=bits)
    for check in (registry.preflight, registry.build):
        with pytest.raises(BackendUnavailable, match="needs an NVIDIA GPU with CUDA"):
            check(config)


@pytest.mark.skipif(
    importlib.util.find_spec("bitsandbytes") is not None, reason="bitsandbytes is installed"
)
def test_quantization_without_bitsandbytes_names_the_extra(one_cuda_device):
    with pytest.raises(BackendUnavailable, match=r"pip install 'salesbot\[gpu\]'"):
        registry.preflight(transformers_config(device="cuda", quant_bits=4))


def test_a_missing_lora_adapter_is_not_found(tmp_path):
    config = transformers_config(lora_path=tmp_path / "no-adapter")
    for check in (registry.preflight, registry.build):
        with pytest.raises(ModelNotFound, match="LLM_LORA_PATH"):
            check(config)


def test_a_missing_model_folder_is_not_found(tmp_path):
    config = transformers_config(model_path=None, model=str(tmp_path / "no-model"))
    for check in (registry.preflight, registry.build):
        with pytest.raises(ModelNotFound, match="LLM_MODEL"):
            check(config)


class Contact(BaseModel):
    name: str | None = None
    seats: int | None = Field(None, ge=1)


class Order(BaseModel):
    tags: list[str]
    extras: dict[str, int]
    contact: Contact | None


@pytest.mark.parametrize(
    ("text", "viable", "complete"),
    [
        ("", True, False),
        ('{"tags": ["a", "b"], "extras": {"x": 1', True, False),
        ('{"tags": [], "extras": {}, "contact": {"name": "Jo", "seats": 12}}', True, True),
        ('{"tags": [], "extras": {}, "contact": null}', True, True),
        ('{"tags": [], "extras": {}, "contact": null} ', False, False),
        ("```json", False, False),
        ('{"extras"', False, False),  # properties come in their declared order
        ('{"tags": [1', False, False),
        ('{"tags": ["a\\q"', False, False),  # not a JSON escape
    ],
)
def test_the_schema_constraint_knows_what_can_still_become_valid(text, viable, complete):
    constraint = JsonPrefix(Order.model_json_schema())
    assert (constraint.viable(text), constraint.complete(text)) == (viable, complete)


@pytest.mark.slow
@pytest.mark.parametrize("options", [{"greedy": True}, {"temperature": 1.5, "seed": 1}])
def test_constrained_output_never_leaves_a_nested_schema(transformers_engine: Engine, options):
    model = transformers_engine.model
    chat = [ChatMessage("user", "Order: tags red and blue, no extras, contact Jo for 3 seats.")]
    schema = Order.model_json_schema()
    # A 135M model may ramble inside a string until max_tokens; even then it is on the schema.
    completion = model._complete(chat, model.options(max_tokens=48, **options), schema)
    assert completion.text and JsonPrefix(schema).viable(completion.text)
    if completion.finish_reason == "stop":
        Order.model_validate_json(completion.text)


@pytest.mark.slow
def test_sampled_extraction_stays_on_the_schema(transformers_engine: Engine):
    chat = [ChatMessage("user", "Hi, I'm Jane Doe and we need 12 seats.")]
    contact = transformers_engine.model.extract(
        chat, Contact, greedy=False, temperature=1.5, seed=3, max_tokens=48, attempts=1
    )
    assert isinstance(contact, Contact)


@pytest.mark.slow
def test_seeded_sampling_is_reproducible(transformers_engine: Engine):
    model = transformers_engine.model
    first = model.complete(PROMPT, seed=7, temperature=1.2, max_tokens=16)
    again = model.complete(PROMPT, seed=7, temperature=1.2, max_tokens=16)
    assert first.text and first.text == again.text


@pytest.mark.slow
def test_count_tokens_uses_the_tokenizer(transformers_engine: Engine):
    model = transformers_engine.model
    assert model.count_tokens("") == 0
    assert model.count_tokens("apples") < model.count_tokens("apples, pears and plums")


@pytest.mark.slow
def test_a_reader_that_stops_early_frees_the_model(transformers_engine: Engine):
    model = transformers_engine.model
    chunks = model.stream(PROMPT, greedy=True, max_tokens=200)
    assert isinstance(next(chunks), str)
    chunks.close()  # the generation thread stops; the next call would wait forever if not
    assert model.complete(PROMPT, greedy=True, max_tokens=4).usage.completion_tokens > 0


@pytest.mark.slow
def test_a_failure_while_generating_is_raised(transformers_engine: Engine, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("out of memory (injected)")

    # The library's own failures (out of memory, a CUDA fault) cannot be provoked here.
    monkeypatch.setattr(transformers_engine.model._model, "generate", fail)
    with pytest.raises(GenerationFailed, match="injected"):
        list(transformers_engine.model.stream(PROMPT, greedy=True, max_tokens=8))


@pytest.fixture(scope="session")
def lora_adapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small LoRA adapter for SmolLM2, with random (not zero) weights so that it shows."""
    folder = tmp_path_factory.mktemp("lora")
    torch.manual_seed(0)
    # An adapter holds only its own weights, so the architecture is all it needs from the model.
    base = AutoModelForCausalLM.from_config(
        AutoConfig.from_pretrained(MODELS, gguf_file=BUNDLED.name)
    )
    config = LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(folder, save_embedding_layers=False)
    return folder


@pytest.mark.slow
def test_a_lora_adapter_is_attached_and_generates(transformers_engine: Engine, lora_adapter):
    plain = transformers_engine.model.complete(PROMPT, greedy=True, max_tokens=12)
    model = registry.build(transformers_config(lora_path=lora_adapter))
    try:
        *chunks, adapted = model.stream(PROMPT, greedy=True, max_tokens=12)
    finally:
        model.close()
    assert isinstance(adapted, Completion) and adapted.usage.completion_tokens > 0
    assert "".join(chunks) == adapted.text
    assert adapted.text != plain.text
