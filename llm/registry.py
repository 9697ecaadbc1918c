"""Backends register by name; `get_llm` builds a configured model once per process."""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time

from llm.base import BaseLLM
from llm.bundled import bundled_model_path
from llm.config import ModelConfig
from llm.embeddings import Embedder, embedder, embedder_preflight
from llm.ensemble import EnsembleLLM
from llm.errors import BackendUnavailable, InvalidOptions, LLMError, UnknownModel
from llm.failover import FailoverLLM, chain_error
from llm.resident import ResidentLLM
from llm.resources import MemoryBudget
from llm.router import RouterLLM
from llm.routing import TIERS
from llm.settings import LLMSettings, load_settings, settings_path
from llm.types import ModelRole

logger = logging.getLogger(__name__)

# Dotted paths, imported on first use, so `import llm` never pulls in llama_cpp or torch.
_BACKENDS: dict[str, str] = {
    "llama_cpp": "llm.backends.llama_cpp:LlamaCppLLM",
    "ctransformers": "llm.backends.ctransformers:CTransformersLLM",
    "transformers": "llm.backends.transformers:TransformersLLM",
    "ollama": "llm.backends.ollama:OllamaLLM",
    "openai_compat": "llm.backends.openai_compat:OpenAICompatLLM",
    "fake": "llm.backends.fake:FakeLLM",
}
_cache: dict[str, BaseLLM] = {}  # keyed by the configuration's JSON
_embedders: dict[str, Embedder] = {}  # keyed by the embedding settings' JSON
_settings: LLMSettings | None = None
_stamp: tuple[str, int] | None = None  # the settings file read, and its mtime then
_budget: MemoryBudget | None = None  # the models' memory, when `resources:` sets a budget
_lock = threading.RLock()  # `_shared` may read the settings for the first time


# Backends whose libraries are optional extras of the salesbot package.
_EXTRAS = {"ctransformers": "ctransformers", "transformers": "transformers"}


def register_backend(name: str, target: str) -> None:
    """Make a backend class available under `name` ("package.module:ClassName")."""
    _BACKENDS[name] = target


def backend_class(name: str) -> type[BaseLLM]:
    """Import and return the class registered as `name`."""
    try:
        module_name, _, attr = _BACKENDS[name].partition(":")
    except KeyError:
        raise UnknownModel(name, list(_BACKENDS), kind="backend") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        # Backends import their libraries at the top; the install hint is given once, here.
        package = f"salesbot[{_EXTRAS[name]}]" if name in _EXTRAS else "salesbot"
        raise BackendUnavailable(
            f"backend {name!r} needs {exc.name or 'a package'}, which is not installed: "
            f"pip install '{package}'"
        ) from exc
    cls: type[BaseLLM] = getattr(module, attr)
    return cls


def build(config: ModelConfig) -> BaseLLM:
    """Construct a new model from its configuration."""
    cls = backend_class(config.backend)
    started = time.perf_counter()
    model = cls.from_config(config)
    logger.info(
        "built model %s (%s) in %.1fs", config.name, config.backend, time.perf_counter() - started
    )
    return model


def preflight(config: ModelConfig) -> None:
    """Check, without loading weights, that `config` can be built here; raise if not."""
    backend_class(config.backend).preflight(config)


def settings() -> LLMSettings:
    """The model settings of this process (file + environment), read once, and again when
    `refresh` finds the file changed."""
    global _settings, _stamp
    with _lock:
        if _settings is None:
            _stamp = _file_stamp()
            _settings = load_settings()
            set_log_level(os.environ.get("LLM_LOG_LEVEL"))
        return _settings


def _file_stamp() -> tuple[str, int] | None:
    """The settings file in use and when it last changed; None without one."""
    path = settings_path()
    try:
        return (str(path), path.stat().st_mtime_ns) if path else None
    except OSError:
        return (str(path), -1)  # gone: a change too, which `load_settings` then explains


def refresh() -> bool:
    """Hot swap: when the settings file changed since it was read, use the new one from the
    next `get_llm` on. Models whose configuration is unchanged stay loaded; the others are
    released, and chains, routers and ensembles are built again. A file that no longer reads
    as valid settings changes nothing (logged). Call it between calls, never during one (a
    worker: before each task), so that a reply in flight ends on the model it began on.
    True when the new settings took effect."""
    global _settings, _stamp
    stamp = _file_stamp()
    with _lock:
        if _settings is None or stamp == _stamp:
            return False
        _stamp = stamp  # a bad file is reported once, not before every task
    try:
        new = load_settings()
    except LLMError as exc:
        logger.error("the model settings changed but cannot be used, so nothing changes: %s", exc)
        return False
    kept = {config.model_dump_json() for config in new.models.values()}
    if _settings is not None and new.resources != _settings.resources:
        kept = set()  # a new memory budget: every model loads again within it
    with _lock:
        released = [m for key, m in _cache.items() if key.startswith("{") and key not in kept]
        for key in [k for k, m in _cache.items() if not k.startswith("{") or m in released]:
            del _cache[key]
        _settings = new
    for model in released:
        model.close()
    logger.warning(
        "model settings changed (%s): %d model(s) kept loaded, %d released",
        stamp[0] if stamp else "no file", len(kept & set(_cache)), len(released),
    )  # fmt: skip
    return True


def set_log_level(level: str | None) -> None:
    """Apply `LLM_LOG_LEVEL` (DEBUG, INFO, WARNING, ERROR) to the `llm` loggers."""
    if not level:
        return
    name = level.strip().upper()
    if name not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise InvalidOptions(
            f"LLM_LOG_LEVEL={level!r} is not a log level; use DEBUG, INFO, WARNING or ERROR"
        )
    logging.getLogger("llm").setLevel(name)


def _shared(config: ModelConfig) -> BaseLLM:
    key = config.model_dump_json()
    with _lock:
        if key not in _cache:
            _cache[key] = _resident(config, key)
        return _cache[key]


def _resident(config: ModelConfig, key: str) -> BaseLLM:
    """`config`'s model; under a memory budget (`resources:`), one the budget manages."""
    global _budget
    limits = (_settings or settings()).resources
    if limits.ram_mb is None and limits.vram_mb is None:
        return build(config)
    if _budget is None or _budget.settings != limits:
        _budget = MemoryBudget(limits)
    return ResidentLLM(config, build=build, budget=_budget, key=key)


def get_llm(model: str | ModelConfig | None = None, *, role: ModelRole = "reply") -> BaseLLM:
    """A model by name (from the settings file) or configuration, else the one for `role`:
    its chain of models (`llm.failover`) when the settings name several.

    Each configuration (and each chain) is built once per process and then shared.
    """
    if isinstance(model, ModelConfig):
        return _shared(model)
    if model is not None:
        return _shared(settings().model(model))
    router = settings().router
    if router is not None and router.role == role:
        key = f"router:{router.model_dump_json()}"
        with _lock:
            found = _cache.get(key)
        if found is None:
            tiers = {
                tier: _ensemble()
                if router.tier(tier).ensemble
                else _chain(settings().tier_chain(tier))
                for tier in TIERS
            }
            with _lock:
                found = _cache.setdefault(key, RouterLLM(tiers, router))
        return found
    return _chain(settings().chain(role))


def _ensemble() -> BaseLLM:
    """The ensemble (`ensemble:` in the settings), built once per process."""
    ensemble = settings().ensemble
    assert ensemble is not None, "the settings' validation requires `ensemble:` for a tier"
    key = f"ensemble:{ensemble.model_dump_json()}"
    with _lock:
        found = _cache.get(key)
    if found is None:
        members, errors = [], []
        for name in ensemble.models:  # one that cannot be built here is left out
            try:
                members.append(_shared(settings().model(name)))
            except LLMError as exc:
                errors.append((name, exc))
                logger.warning("ensemble model %s cannot run here and is left out: %s", name, exc)
        if not members:
            raise chain_error("no model of the ensemble can run here", errors)
        try:
            measure: Embedder | None = embedder(ensemble.embedding, bundled_model_path())
        except LLMError as exc:
            measure = None
            logger.warning(
                "the ensemble cannot measure agreement (%s): it gives the first answer", exc
            )
        built = EnsembleLLM(members, measure)
        with _lock:
            found = _cache.setdefault(key, built)
    return found


def _chain(chain: list[ModelConfig]) -> BaseLLM:
    """The model, or the failover chain of models, built once per process."""
    if len(chain) == 1:
        return _shared(chain[0])
    key = "chain:" + "|".join(config.model_dump_json() for config in chain)
    policy = settings().failover
    with _lock:
        if key not in _cache:
            _cache[key] = FailoverLLM(chain, build=_shared, policy=policy)
        return _cache[key]


def preflight_role(role: ModelRole) -> list[tuple[str, LLMError]]:
    """Check the models of `role`'s chain (and, when the router routes it, of each tier's)
    without loading them: `ChainFailed`, naming each one's reason, if none of a chain can be
    built here, else the ones that cannot, with why."""
    chains = {f"the {role} role": settings().chain(role)}
    router = settings().router
    failed: dict[str, LLMError] = {}
    if router is not None and router.role == role:
        tiers = [router.tier(t) for t in TIERS]
        if all(t.model or t.ensemble for t in tiers):
            chains = {}  # every tier has its own models: the role's own chain serves nothing
        chains |= {f"the {role} role's {t} tier": settings().tier_chain(t) for t in TIERS}
        ensemble = settings().ensemble
        if ensemble is not None and any(t.ensemble for t in tiers):
            try:
                embedder_preflight(ensemble.embedding, bundled_model_path())
            except LLMError as exc:
                failed["ensemble embedding"] = exc
    for what, chain in chains.items():
        for config in chain:
            if config.name not in failed:
                try:
                    preflight(config)
                except LLMError as exc:
                    failed[config.name] = exc
        errors = [(c.name, failed[c.name]) for c in chain if c.name in failed]
        if len(errors) == 1 == len(chain):
            raise errors[0][1]
        if len(errors) == len(chain):
            raise chain_error(f"no model of {what} can run here", errors)
    return list(failed.items())


def get_embedder() -> Embedder:
    """The embedder of `embedding:` in the settings (all-MiniLM-L6-v2 by default), built once
    per process; `LLMError` when it cannot run here."""
    config = settings().embedding
    key = f"embedding:{config.model_dump_json()}"
    with _lock:
        found = _embedders.get(key)
    if found is None:
        built = embedder(config, bundled_model_path())
        with _lock:
            found = _embedders.setdefault(key, built)
    return found


def reset() -> None:
    """Forget the settings and every cached model, releasing what each holds."""
    global _settings, _stamp, _budget
    with _lock:
        for model in _cache.values():
            model.close()
        _cache.clear()
        _embedders.clear()
        _settings, _stamp, _budget = None, None, None
