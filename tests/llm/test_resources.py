"""The resource manager (llm/resources.py, llm/resident.py): memory estimates from GGUF files,
a worker's budget, least-recently-used unloading, and a refusal that names the numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm import ChatMessage, ModelConfig, ResourceExhausted, registry
from llm.resident import ResidentLLM
from llm.resources import MB, MemoryBudget, MemoryEstimate, ResourceSettings, estimate

MODEL = Path(__file__).resolve().parents[2] / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
CHAT = [ChatMessage("user", "Hi")]
# SmolLM2-135M: 30 layers, 576 wide, 9 heads of 64, 3 KV heads, 49,152 tokens.
KV_PER_TOKEN = 2 * 30 * 3 * 64 * 2


def test_a_gguf_models_need_is_its_weights_its_context_and_its_logits():
    need = estimate(ModelConfig(model_path=MODEL, n_ctx=2048, n_batch=512))
    weights = need.ram - 2048 * KV_PER_TOKEN - 512 * 49152 * 4
    assert 90 * MB < weights < MODEL.stat().st_size  # the tensors, not the file's header
    assert need.vram == 0
    bigger = estimate(ModelConfig(model_path=MODEL, n_ctx=4096, n_batch=512))
    assert bigger.ram - need.ram == 2048 * KV_PER_TOKEN


def test_gpu_layers_move_their_share_to_vram():
    cpu = estimate(ModelConfig(model_path=MODEL, n_ctx=2048))
    half = estimate(ModelConfig(model_path=MODEL, n_ctx=2048, n_gpu_layers=15))
    whole = estimate(ModelConfig(model_path=MODEL, n_ctx=2048, n_gpu_layers=-1))
    assert half.vram == pytest.approx((cpu.ram - 512 * 49152 * 4) / 2, rel=1e-6)
    assert whole.ram == 512 * 49152 * 4 and half.ram + half.vram == cpu.ram
    assert "15 of 30 layers on the GPU" in half.detail


def test_a_model_served_elsewhere_needs_nothing_here():
    config = ModelConfig(backend="openai_compat", model="m", base_url="http://127.0.0.1:1")
    assert (estimate(config).ram, estimate(config).vram) == (0, 0)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_the_budget_unloads_the_least_recently_used_to_make_room():
    budget = MemoryBudget(ResourceSettings(ram_mb=100), clock=Clock())
    unloaded: list[str] = []
    for name in ("a", "b"):
        budget.admit(name, name, MemoryEstimate(40 * MB, 0, ""), lambda n=name: unloaded.append(n))
    budget.used("a")  # b is now the one used least recently
    budget.admit("c", "c", MemoryEstimate(40 * MB, 0, ""), lambda: unloaded.append("c"))
    assert unloaded == ["b"] and budget.in_use() == (80 * MB, 0)


def test_a_model_answering_a_call_is_never_unloaded():
    budget = MemoryBudget(ResourceSettings(ram_mb=100), clock=Clock())
    unloaded: list[str] = []
    budget.admit("a", "a", MemoryEstimate(60 * MB, 0, ""), lambda: unloaded.append("a"),
                 busy=lambda: True)  # fmt: skip
    with pytest.raises(ResourceExhausted, match="answering calls now"):
        budget.admit("b", "b", MemoryEstimate(60 * MB, 0, ""), lambda: unloaded.append("b"))
    assert unloaded == []


def test_a_model_too_big_for_the_budget_is_refused_naming_the_numbers():
    budget = MemoryBudget(ResourceSettings(ram_mb=100, vram_mb=8))
    with pytest.raises(ResourceExhausted, match=r"needs 120 MB of RAM and 0 MB of VRAM .*100 MB"):
        budget.admit("a", "big", MemoryEstimate(120 * MB, 0, "weights"), lambda: None)


def _configured(configured, ram_mb: int) -> None:
    models = "".join(
        f"  {name}: {{backend: llama_cpp, model_path: {MODEL}, n_ctx: {n_ctx}}}\n"
        for name, n_ctx in (("a", 512), ("b", 1024))
    )
    configured(f"default_model: a\nresources: {{ram_mb: {ram_mb}}}\nmodels:\n{models}"
               "roles:\n  reply: [a, b]\n")  # fmt: skip


def test_loading_a_model_over_the_budget_unloads_the_other_and_each_comes_back(configured):
    _configured(configured, ram_mb=300)  # one of them at a time
    a, b = registry.get_llm("a"), registry.get_llm("b")
    assert isinstance(a, ResidentLLM) and isinstance(b, ResidentLLM)
    assert not a.is_loaded and b.is_loaded  # b came last
    assert a.complete(CHAT, max_tokens=4).text
    assert a.is_loaded and not b.is_loaded
    chain = registry.get_llm(role="reply")  # holds both: each call finds its model loaded
    assert chain.complete(CHAT, max_tokens=4).model == "a"
    assert b.complete(CHAT, max_tokens=4).text and not a.is_loaded


def test_a_budget_too_small_for_a_model_refuses_it(configured):
    _configured(configured, ram_mb=50)
    with pytest.raises(ResourceExhausted, match=r"model a needs .* MB of RAM .*budget of 50 MB"):
        registry.get_llm("a")
