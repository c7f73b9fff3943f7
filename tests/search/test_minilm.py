"""The torch-only MiniLM forward pass gives sentence-transformers' vectors, and small batches never import it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from kb.search import minilm
from kb.search.transformer import THREADS, load_transformer, model_source_dir

TEXTS = [
    "Grad-CAM on LLaVA's visual tokens",
    "attention " * 400,  # longer than the 256-token limit: truncated the same way
    "Ünïcode — visual tokens ✓\nsecond line",
    "x",  # padded to the longest text of the batch
]


@pytest.mark.slow
def test_the_light_forward_pass_matches_sentence_transformers() -> None:
    reference = load_transformer().encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    batched = minilm.encode(model_source_dir(), TEXTS, THREADS)
    assert batched.shape == (4, 384) and batched.dtype == np.float32
    assert np.abs(batched - reference).max() < 1e-5
    one_by_one = np.concatenate([minilm.encode(model_source_dir(), [t], THREADS) for t in TEXTS])
    assert np.abs(one_by_one - reference).max() < 1e-5
    # Not a trivially equal pair: different texts give clearly different vectors.
    assert float(reference[0] @ reference[3]) < 0.9


def test_a_few_texts_are_embedded_without_importing_sentence_transformers() -> None:
    code = (
        "import sys; from kb.search.transformer import encode_dense; v = encode_dense(['a', 'b']); "
        "print(v.shape, 'sentence_transformers' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["(2,", "384)", "False", "False"]
