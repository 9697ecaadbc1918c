from __future__ import annotations

from pathlib import Path

import pytest

from llm import BackendUnavailable, InvalidOptions, ModelConfig, UnknownModel, bundled, registry
from llm.backends.fake import FakeLLM


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(UnknownModel) as info:
        registry.build(ModelConfig(backend="nope"))
    assert "llama_cpp" in str(info.value) and "fake" in str(info.value)


def test_get_llm_builds_once_per_configuration():
    config = ModelConfig(name="f", backend="fake")
    try:
        first = registry.get_llm(config)
        assert isinstance(first, FakeLLM)
        assert registry.get_llm(config) is first
    finally:
        registry.reset()


def test_config_from_env_reads_the_common_knobs(tmp_path: Path):
    config = ModelConfig.from_env(
        {
            "LLM_MODEL_PATH": str(tmp_path / "mistral-7b-instruct-v0.2.Q4_K_M.gguf"),
            "LLM_GPU_LAYERS": "-1",
            "LLM_N_CTX": "8192",
            "LLM_MAX_NEW_TOKENS": "128",
            "LLM_TEMPERATURE": "0.3",
        }
    )
    assert config.name == "mistral-7b-instruct-v0.2.Q4_K_M"
    assert (config.n_gpu_layers, config.n_ctx) == (-1, 8192)
    assert (config.defaults.max_tokens, config.defaults.temperature) == (128, 0.3)


def test_config_defaults_to_the_bundled_model():
    config = ModelConfig.from_env({})
    assert config.backend == "llama_cpp"
    assert config.resolved_model_path().name == bundled.FILENAME


def test_gpu_layers_is_accepted_as_an_alias():
    assert ModelConfig.model_validate({"gpu_layers": 20}).n_gpu_layers == 20


def test_invalid_environment_names_the_variable():
    with pytest.raises(InvalidOptions, match="LLM_N_CTX"):
        ModelConfig.from_env({"LLM_N_CTX": "lots"})


def test_missing_model_file_says_how_to_fix_it(tmp_path: Path):
    config = ModelConfig(model_path=tmp_path / "absent.gguf")
    with pytest.raises(BackendUnavailable, match="LLM_MODEL_PATH"):
        registry.build(config)


@pytest.mark.parametrize(
    ("name", "package"), [("transformers", "salesbot[transformers]"), ("ghost", "salesbot")]
)
def test_a_backend_whose_library_is_missing_says_what_to_install(
    name: str, package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "needs_absent_library.py").write_text("import salesbot_absent_library\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry._BACKENDS, name, "needs_absent_library:Model")
    with pytest.raises(BackendUnavailable) as info:
        registry.backend_class(name)
    assert "needs salesbot_absent_library" in str(info.value)
    assert f"pip install '{package}'" in str(info.value)
