"""Schema-constrained decoding for Hugging Face transformers: a `LogitsProcessor` over `JsonPrefix`.

transformers has no grammar engine; at each step this masks every token that would take the
output off the JSON Schema (`llm.json_prefix` tells which texts can still become valid), and
allows end-of-sequence only once the object is complete. Imported by the transformers backend
alone: it needs torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import torch
import transformers

from llm.json_prefix import JsonPrefix
from llm.types import JsonSchema


@dataclass(frozen=True)
class Vocabulary:
    """Every token's text, and the tokens grouped by their first character."""

    pieces: list[str]
    by_first: dict[str, list[int]]

    @classmethod
    def of(cls, tokenizer: Any) -> Vocabulary:
        ids = [[token] for token in range(len(tokenizer))]
        pieces = tokenizer.batch_decode(ids, skip_special_tokens=True)
        by_first: dict[str, list[int]] = {}
        for token, piece in enumerate(pieces):
            if piece and "\ufffd" not in piece:  # not a fragment of a multi-byte character
                by_first.setdefault(piece[0], []).append(token)
        return cls(pieces, by_first)


class SchemaConstraint(transformers.LogitsProcessor):
    """Masks every token that would take the output off the schema; EOS once it is complete."""

    def __init__(
        self, schema: JsonSchema, vocabulary: Vocabulary, prompt_tokens: int, eos: set[int]
    ) -> None:
        self.json = JsonPrefix(schema)
        self.vocabulary = vocabulary
        self.prompt_tokens = prompt_tokens
        self.eos = eos

    def _fits(self, text: str, token: int, done: bool) -> bool:
        if token in self.eos:
            return done
        piece = self.vocabulary.pieces[token] if token < len(self.vocabulary.pieces) else ""
        return bool(piece) and "\ufffd" not in piece and self.json.viable(text + piece)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        pieces = self.vocabulary.pieces
        text = "".join(pieces[int(t)] for t in input_ids[0, self.prompt_tokens :])
        done = self.json.complete(text)
        row = scores[0]
        # The likeliest tokens usually include one that fits; keep those that do.
        top = torch.topk(row, min(64, row.shape[-1])).indices.tolist()
        allowed = [t for t in top if not row[t].isinf() and self._fits(text, t, done)]
        if not allowed:
            # Where the schema dictates the text (a key), look among the tokens that start right.
            starts = [c for c in self.vocabulary.by_first if self.json.viable(text + c)]
            candidates = [t for c in starts for t in self.vocabulary.by_first[c]]
            candidates.sort(key=lambda t: float(row[t]), reverse=True)
            allowed = next(([t] for t in candidates if self._fits(text, t, done)), [])
        if done or not allowed:  # complete, or nothing fits at all: ending is allowed
            allowed += sorted(self.eos)
        masked = torch.full_like(scores, float("-inf"))
        kept = scores[0, allowed]
        masked[0, allowed] = torch.where(kept.isinf(), torch.zeros_like(kept), kept)
        return cast(torch.FloatTensor, masked)
