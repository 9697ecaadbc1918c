"""The model settings file: named models, which serves which role, and the precedence rules.

Precedence, highest first: command-line flags > `LLM_*` environment variables > the file
(`LLM_CONFIG`, default `config/llm.yaml`) > built-in defaults. The environment overrides apply
to the file's `default_model`, the one every role uses unless the file maps it elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from llm.config import ModelConfig, _validate, env_overrides
from llm.embeddings import EmbeddingSettings
from llm.errors import InvalidOptions, UnknownModel
from llm.resources import ResourceSettings
from llm.routing import TIERS, RouterSettings
from llm.types import ModelRole

DEFAULT_PATH = Path("config") / "llm.yaml"


class FailoverSettings(BaseModel):
    """How a role's chain of models (`roles: {reply: [a, b]}`) moves from one to the next."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retries: int = Field(
        1, ge=0, le=5, description="Tries again on the same model after an error that may pass."
    )
    backoff_s: float = Field(
        0.5, ge=0, le=30, description="The wait before the first retry; doubled for each next."
    )
    failures: int = Field(
        3, ge=1, le=100, description="Failed calls in a row that put a model in its cooldown."
    )
    cooldown_s: float = Field(
        60.0, ge=0, le=3600, description="How long a cooling model is passed over."
    )


class EnsembleSettings(BaseModel):
    """`ensemble:` in config/llm.yaml: the models that answer together, and how their answers'
    agreement is measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[str] = Field(min_length=2, description="The models that answer in parallel.")
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)


class LLMSettings(BaseModel):
    """Every configured model by name, and the model (or chain of models) each role uses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_model: str = Field("default", description="The model roles use unless mapped.")
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    roles: dict[ModelRole, str | list[str]] = Field(default_factory=dict)
    failover: FailoverSettings = Field(default_factory=FailoverSettings)
    router: RouterSettings | None = Field(None, description="Tiers of models by complexity.")
    ensemble: EnsembleSettings | None = Field(None, description="Models that answer together.")
    embedding: EmbeddingSettings = Field(
        default_factory=EmbeddingSettings,
        description="The embedder a Site's knowledge is retrieved with (`get_embedder`).",
    )
    resources: ResourceSettings = Field(default_factory=ResourceSettings)

    @model_validator(mode="after")
    def _names_exist(self) -> LLMSettings:
        named = [("default_model", self.default_model)]
        for tier in TIERS if self.router is not None else ():
            tiered = _names(self.router.tier(tier).model if self.router else None)
            if len(set(tiered)) != len(tiered):
                raise ValueError(f"router.{tier}.model names a model twice: {', '.join(tiered)}")
            named += [(f"router.{tier}.model", name) for name in tiered]
            if self.router and self.router.tier(tier).ensemble and self.ensemble is None:
                raise ValueError(f"router.{tier} asks for the ensemble, but `ensemble:` is unset")
        if self.ensemble is not None:
            members = self.ensemble.models
            if len(set(members)) != len(members):
                raise ValueError(f"ensemble.models names a model twice: {', '.join(members)}")
            named += [("ensemble.models", name) for name in members]
        for role, names in self.roles.items():
            chain = _names(names)
            if not chain:
                raise ValueError(f"roles.{role} names no model")
            if len(set(chain)) != len(chain):
                raise ValueError(f"roles.{role} names a model twice: {', '.join(chain)}")
            named += [(f"roles.{role}", name) for name in chain]
        for where, name in named:
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

    def chain(self, role: ModelRole) -> list[ModelConfig]:
        """The models that serve `role`, in the order they take over from each other."""
        return [self.model(name) for name in _names(self.roles.get(role, self.default_model))]

    def tier_chain(self, tier: str) -> list[ModelConfig]:
        """The models of the router's `tier`: its own, the ensemble's, else the routed role's
        chain."""
        assert self.router is not None, "no router: `router:` is not in the settings"
        if self.router.tier(tier).ensemble and self.ensemble is not None:
            return [self.model(n) for n in self.ensemble.models]
        names = self.router.tier(tier).model
        return [self.model(n) for n in _names(names)] if names else self.chain(self.router.role)

    def for_role(self, role: ModelRole) -> ModelConfig:
        """The model that serves `role` first (the head of its chain)."""
        return self.chain(role)[0]


def _names(names: str | list[str] | None) -> list[str]:
    """A model or a chain, as a list of names."""
    return [names] if isinstance(names, str) else list(names or [])


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
    for key in ("defaults", "price"):
        if key in file_entry and key in overrides:
            merged[key] = {**file_entry[key], **overrides[key]}
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
        {
            "default_model": default_name,
            "models": models,
            "roles": data.get("roles") or {},
            "failover": data.get("failover") or {},
            "router": data.get("router"),
            "ensemble": data.get("ensemble"),
            "resources": data.get("resources") or {},
        },
        where,
    )
