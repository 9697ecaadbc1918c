"""A BERT encoder in numpy, for sentence embeddings without torch (all-MiniLM-L6-v2).

`make run` installs no torch (a GB and more), yet a Site's knowledge must be embedded and each
visitor message with it. A 6-layer, 384-wide BERT is a few matrix products a token: numpy does
them in milliseconds. The weights are the safetensors file sentence-transformers publishes; the
tokenizer is its own `tokenizer.json`, run by Hugging Face's `tokenizers` (Rust, no torch). The
forward pass is BERT's (Devlin et al., 2018) as transformers' `BertModel` computes it, in
float32: tests/llm/test_bert.py checks it against transformers to 1e-5.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

Array = npt.NDArray[np.float32]


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: Array = (x - mean) / np.sqrt(var + eps) * weight + bias
    return out


def _erf(x: Array) -> Array:
    """The error function to 1.5e-7 (Abramowitz and Stegun, 7.1.26): below float32's step."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    out: Array = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return out


def _gelu(x: Array) -> Array:
    """BERT's exact GELU: x·Φ(x) (not the tanh approximation)."""
    out: Array = 0.5 * x * (1.0 + _erf(x / np.float32(math.sqrt(2.0))))
    return out


class BertEncoder:
    """Token vectors (the last hidden state) of a BERT model's folder: config.json,
    model.safetensors, tokenizer.json."""

    def __init__(self, path: Path, *, max_tokens: int = 256) -> None:
        config: dict[str, Any] = json.loads((path / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.weights = load_file(str(path / "model.safetensors"))
        self.prefix = "bert." if "bert.embeddings.word_embeddings.weight" in self.weights else ""
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))

    def _w(self, name: str) -> Array:
        weight: Array = self.weights[self.prefix + name]
        return weight

    def encode(self, texts: list[str]) -> tuple[Array, Array]:
        """The token vectors of `texts` (batch, tokens, width) and their attention mask."""
        batch = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in batch], dtype=np.int64)
        types = np.array([e.type_ids for e in batch], dtype=np.int64)
        mask = np.array([e.attention_mask for e in batch], dtype=np.float32)
        positions = np.arange(ids.shape[1])
        x = (
            self._w("embeddings.word_embeddings.weight")[ids]
            + self._w("embeddings.position_embeddings.weight")[positions][None, :, :]
            + self._w("embeddings.token_type_embeddings.weight")[types]
        )
        x = _layer_norm(
            x,
            self._w("embeddings.LayerNorm.weight"),
            self._w("embeddings.LayerNorm.bias"),
            self.eps,
        )
        # Padding is never attended to: a large negative score before the softmax.
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for i in range(self.layers):
            x = self._layer(x, blocked, f"encoder.layer.{i}.")
        return x.astype(np.float32), mask

    def _dense(self, x: Array, name: str) -> Array:
        out: Array = x @ self._w(f"{name}.weight").T + self._w(f"{name}.bias")
        return out

    def _layer(self, x: Array, blocked: Array, p: str) -> Array:
        batch, tokens, width = x.shape
        size = width // self.heads

        def heads(t: Array) -> Array:
            return t.reshape(batch, tokens, self.heads, size).transpose(0, 2, 1, 3)

        q = heads(self._dense(x, p + "attention.self.query"))
        k = heads(self._dense(x, p + "attention.self.key"))
        v = heads(self._dense(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(size)) + blocked
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attention = scores / scores.sum(axis=-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, width)
        x = _layer_norm(
            x + self._dense(context, p + "attention.output.dense"),
            self._w(p + "attention.output.LayerNorm.weight"),
            self._w(p + "attention.output.LayerNorm.bias"),
            self.eps,
        )
        hidden = _gelu(self._dense(x, p + "intermediate.dense"))
        return _layer_norm(
            x + self._dense(hidden, p + "output.dense"),
            self._w(p + "output.LayerNorm.weight"),
            self._w(p + "output.LayerNorm.bias"),
            self.eps,
        )

    def mean_pooled(self, texts: list[str]) -> Array:
        """Each text's token vectors averaged over its tokens (not its padding)."""
        tokens, mask = self.encode(texts)
        summed = (tokens * mask[:, :, None]).sum(axis=1)
        pooled: Array = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return pooled
