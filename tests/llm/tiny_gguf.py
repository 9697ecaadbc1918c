"""A tiny llama-architecture GGUF with random weights, for engines that cannot load modern files.

ctransformers (unmaintained since 2023) refuses today's GGUF files but loads this one: a
SentencePiece-style vocabulary with byte fallback, F32 tensors, two layers, a few hundred KB.
The weights are random, so the text is not meant to make sense; it is deterministic for a seed.
"""

from __future__ import annotations

import string
from pathlib import Path

import gguf
import numpy as np

_SPECIAL = ["<unk>", "<s>", "</s>"]
_WORDS = [
    *("the", "and", "you", "your", "we", "our", "team", "price", "plan", "seats", "demo"),
    *("sales", "lead", "call", "email", "company", "hello", "thanks", "help", "need", "want"),
    *("trial", "month", "year", "user", "support", "today", "more", "about", "with"),
]

N_EMBD = 64
N_HEAD = 4
N_LAYER = 2
N_FF = 128


def _vocabulary() -> tuple[list[str], list[float], list[int]]:
    tokens = list(_SPECIAL)
    types = [
        gguf.TokenType.UNKNOWN,
        gguf.TokenType.CONTROL,
        gguf.TokenType.CONTROL,
    ]
    tokens += [f"<0x{byte:02X}>" for byte in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    pieces = ["\u2581", *string.printable[:94]]  # "▁" and every visible ASCII character
    pieces += [f"\u2581{c}" for c in string.ascii_letters]
    pieces += [f"\u2581{word}" for word in _WORDS]
    tokens += pieces
    types += [gguf.TokenType.NORMAL] * len(pieces)
    # SentencePiece merges the pair with the highest score: prefer longer pieces.
    scores = [0.0] * (len(_SPECIAL) + 256) + [float(len(p)) - 10.0 for p in pieces]
    return tokens, scores, [int(t) for t in types]


def write_tiny_gguf(path: Path, *, seed: int = 0, context_length: int = 2048) -> Path:
    """Write the tiny model to `path` and return it."""
    tokens, scores, types = _vocabulary()
    n_vocab = len(tokens)
    rng = np.random.default_rng(seed)

    def weights(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tiny-random-llama")
    writer.add_context_length(context_length)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)

    output = weights(n_vocab, N_EMBD, scale=1.0)
    # Silence control and byte tokens in the output layer, so greedy text is printable words
    # and characters rather than end-of-text or broken UTF-8.
    output[: len(_SPECIAL) + 256] = 0.0
    writer.add_tensor("token_embd.weight", weights(n_vocab, N_EMBD, scale=1.0))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    for i in range(N_LAYER):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", weights(N_EMBD, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weights(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weights(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weights(N_EMBD, N_FF))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
