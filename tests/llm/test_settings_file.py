"""config/llm.yaml: named models, roles, and flag > environment > file > default precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm import InvalidOptions, UnknownModel, bundled, registry
from llm.backends.fake import FakeLLM
from llm.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]

FILE = """
default_model: local
roles: {reply: local, extraction: strict}
models:
  local:
    backend: llama_cpp
    n_ctx: 2048
    defaults: {temperature: 0.5, max_tokens: 100}
  strict:
    backend: fake
    defaults: {temperature: 0.0}
"""


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "llm.yaml"
    path.write_text(FILE)
    return path


def test_without_a_file_the_bundled_model_serves_every_role():
    settings = load_settings(environ={})
    for role in ("reply", "extraction", "summary"):
        config = settings.for_role(role)
        assert (config.backend, config.resolved_model_path().name) == (
            "llama_cpp",
            bundled.FILENAME,
        )


def test_the_committed_settings_file_is_valid():
    settings = load_settings(ROOT / "config" / "llm.yaml", environ={})
    assert settings.for_role("reply").backend == "llama_cpp"


def test_roles_pick_their_models(settings_file: Path):
    settings = load_settings(settings_file, environ={})
    assert settings.for_role("reply").name == "local"
    assert settings.for_role("extraction").name == "strict"
    assert settings.for_role("summary").name == "local"  # unmapped: the default model


def test_environment_beats_the_file_and_flags_beat_the_environment(settings_file: Path):
    env = {"LLM_N_CTX": "8192", "LLM_MAX_NEW_TOKENS": "64", "LLM_GPU_LAYERS": "10"}
    settings = load_settings(settings_file, environ=env, flags={"n_gpu_layers": 20})
    local = settings.model("local")
    assert (local.n_ctx, local.n_gpu_layers) == (8192, 20)
    # Option defaults merge key by key: the file's temperature stays.
    assert (local.defaults.max_tokens, local.defaults.temperature) == (64, 0.5)
    assert settings.model("strict").n_ctx == 4096  # overrides touch only the default model


def test_llm_cost_per_hour_prices_the_default_models_machine(tmp_path: Path):
    path = tmp_path / "llm.yaml"
    path.write_text(
        FILE.replace("    n_ctx: 2048\n", "    n_ctx: 2048\n    price: {per_1k_prompt: 0.1}\n")
    )
    local = load_settings(path, environ={"LLM_COST_PER_HOUR": "2.5"}).model("local")
    assert (local.price.per_hour, local.price.per_1k_prompt) == (2.5, 0.1)  # merged, key by key


def test_the_settings_file_comes_from_llm_config(settings_file: Path):
    assert load_settings(environ={"LLM_CONFIG": str(settings_file)}).default_model == "local"


def test_a_role_naming_an_unknown_model_says_which(tmp_path: Path):
    path = tmp_path / "llm.yaml"
    path.write_text("models: {a: {}}\ndefault_model: a\nroles: {reply: b}\n")
    with pytest.raises(InvalidOptions, match=r"reply names model 'b'.*models: a"):
        load_settings(path, environ={})


def test_an_invalid_value_names_its_key_and_file(tmp_path: Path):
    path = tmp_path / "llm.yaml"
    path.write_text("models: {default: {n_ctx: 12}}\n")
    with pytest.raises(InvalidOptions, match=r"llm\.yaml.*models\.default\.n_ctx"):
        load_settings(path, environ={})


def test_an_unknown_key_is_refused(tmp_path: Path):
    path = tmp_path / "llm.yaml"
    path.write_text("models: {default: {gpu_layerz: 1}}\n")
    with pytest.raises(InvalidOptions, match="gpu_layerz"):
        load_settings(path, environ={})


def test_broken_yaml_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "llm.yaml"
    path.write_text("models: [unclosed\n")
    with pytest.raises(InvalidOptions, match="not valid YAML"):
        load_settings(path, environ={})


def test_get_llm_builds_a_model_by_name_or_role(settings_file: Path, monkeypatch):
    monkeypatch.setenv("LLM_CONFIG", str(settings_file))
    registry.reset()
    try:
        strict = registry.get_llm("strict")
        assert isinstance(strict, FakeLLM) and strict.defaults.temperature == 0.0
        assert registry.get_llm(role="extraction") is strict
        with pytest.raises(UnknownModel, match="known: local, strict"):
            registry.get_llm("mistral")
    finally:
        registry.reset()


def test_llm_log_level_sets_the_model_layers_loggers(monkeypatch):
    import logging

    monkeypatch.setenv("LLM_LOG_LEVEL", "debug")
    registry.reset()
    try:
        registry.settings()
        assert logging.getLogger("llm").level == logging.DEBUG
        monkeypatch.setenv("LLM_LOG_LEVEL", "loud")
        registry.reset()
        with pytest.raises(InvalidOptions, match="LLM_LOG_LEVEL='loud'"):
            registry.settings()
    finally:
        logging.getLogger("llm").setLevel(logging.NOTSET)
        monkeypatch.delenv("LLM_LOG_LEVEL")
        registry.reset()
