"""The model settings file: named models, which serves which role, and the precedence rules.

Precedence, highest first: command-line flags > `LLM_*` environment variables > the file
(`LLM_CONFIG`, default `config/llm.yaml`) > built-in defaults. The environment overrides apply
to the file's `default_model`, the one every role uses unless the file maps it elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from llm.config import ModelConfig, _validate, env_overrides
from llm.errors import InvalidOptions, UnknownModel

# The jobs a model does for salesbot; config/llm.yaml maps each to a model under `roles:`.
ModelRole = Literal["reply", "extraction", "summary"]
DEFAULT_PATH = Path("config") / "llm.yaml"


class LLMSettings(BaseModel):
    """Every configured model by name, and the model each role uses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_model: str = Field("default", description="The model roles use unless mapped.")
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    roles: dict[ModelRole, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_exist(self) -> LLMSettings:
        for where, name in [("default_model", self.default_model), *self.roles.items()]:
            if name not in self.models:
                raise ValueError(
                    f"{where} names model {name!r}, which is not under models: "
                    f"{', '.join(sorted(self.models)) or '(none)'}"
                )
        return self

    def model(self, name: str) -> ModelConfig:
        try:
            return self.models[name]
        except KeyError:
            raise UnknownModel(name, list(self.models)) from None

    def for_role(self, role: ModelRole) -> ModelConfig:
        return self.model(self.roles.get(role, self.default_model))


def settings_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The settings file in use: `LLM_CONFIG`, else `config/llm.yaml` if present, else none."""
    env = os.environ if environ is None else environ
    if env.get("LLM_CONFIG"):
        return Path(env["LLM_CONFIG"])
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise InvalidOptions(f"model settings file not found: {path} (LLM_CONFIG)") from None
    except yaml.YAMLError as exc:
        raise InvalidOptions(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidOptions(f"{path} must hold a mapping with `models:` (and `roles:`)")
    return data


def _merged(file_entry: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**file_entry, **overrides}
    if "defaults" in file_entry and "defaults" in overrides:
        merged["defaults"] = {**file_entry["defaults"], **overrides["defaults"]}
    return merged


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> LLMSettings:
    """Read the settings file and apply the environment, then `flags`, to the default model."""
    path = path or settings_path(environ)
    data = _read(path) if path else {}
    where = str(path) if path else "built-in defaults"
    default_name = str(data.get("default_model", "default"))
    raw_models = data.get("models") or {default_name: {}}
    if not isinstance(raw_models, dict):
        raise InvalidOptions(f"{where}: `models` must map names to model settings")
    models: dict[str, Any] = {}
    for name, entry in raw_models.items():
        entry = dict(entry or {})
        if name == default_name:
            entry = _merged(_merged(entry, env_overrides(environ)), flags or {})
        entry.setdefault("name", name)
        models[name] = entry
    return _validate(
        LLMSettings,
        {"default_model": default_name, "models": models, "roles": data.get("roles") or {}},
        where,
    )
