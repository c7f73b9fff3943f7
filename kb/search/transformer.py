"""Dense embeddings from the real sentence-transformers model, cached per text by content hash.

The cache is one matrix plus a JSON header (hashes in row order and the matrix's sha256). Changing one
record changes one hash, so only that text is embedded again. A cache whose checksum, shape or header
does not match is discarded and rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import atomic
from kb.errors import KbError
from kb.static_model import model_source_dir

if TYPE_CHECKING:
    import numpy as np

THREADS = 2
BATCH = 32


@lru_cache(maxsize=1)
def load_transformer() -> Any:
    """The all-MiniLM-L6-v2 sentence-transformer from the wheel, offline (imports torch: ~6 s)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise KbError(f"embedding needs the search extra (pip install 'mllm-xai-kb[search]'): {exc}") from exc

    torch.set_num_threads(THREADS)
    return SentenceTransformer(str(model_source_dir()), device="cpu")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def encode_dense(texts: Sequence[str], progress: bool = False) -> np.ndarray:
    """L2-normalised sentence-transformer vectors (float32, 384 columns)."""
    import numpy as np

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = load_transformer()
    vectors = model.encode(list(texts), batch_size=BATCH, show_progress_bar=progress and len(texts) > BATCH,
                           normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)


class EmbeddingCache:
    """Text vectors keyed by the hash of the text, stored in `folder` as cache.npy + cache.json."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.vectors: dict[str, np.ndarray] = {}
        self.discarded = False
        self.computed = 0  # texts embedded by the last `embed` call
        self._load()

    @property
    def _matrix_path(self) -> Path:
        return self.folder / "cache.npy"

    @property
    def _header_path(self) -> Path:
        return self.folder / "cache.json"

    def _load(self) -> None:
        import numpy as np

        if not self._header_path.exists() and not self._matrix_path.exists():
            return
        try:
            header = json.loads(self._header_path.read_text(encoding="utf-8"))
            data = self._matrix_path.read_bytes()
            if hashlib.sha256(data).hexdigest() != header["sha256"]:
                raise ValueError("checksum differs")
            matrix = np.load(io.BytesIO(data), allow_pickle=False)
            hashes = header["hashes"]
            if matrix.ndim != 2 or matrix.shape[0] != len(hashes) or header.get("model") != _model_id():
                raise ValueError("shape or model differs")
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            # A torn or hand-edited cache is worth nothing: start again rather than trust it.
            self.discarded = True
            return
        self.vectors = {h: matrix[i] for i, h in enumerate(hashes)}

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Vectors for `texts`, computing only those not cached; saves the cache when it grew."""
        import numpy as np

        hashes = [text_hash(t) for t in texts]
        missing: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in self.vectors:
                missing.setdefault(h, t)
        self.computed = len(missing)
        if missing:
            if progress:
                # Loading torch takes seconds: say why the command pauses.
                sys.stderr.write(f"embedding {len(missing)} new or changed text(s) with the sentence-transformer...\n")
            fresh = encode_dense(list(missing.values()), progress=progress)
            self.vectors.update(zip(missing, fresh, strict=True))
        if missing or self.discarded:
            self.save(keep=set(hashes))
        if not hashes:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self.vectors[h] for h in hashes]).astype(np.float32)

    def save(self, keep: set[str]) -> None:
        import numpy as np

        self.vectors = {h: v for h, v in self.vectors.items() if h in keep}
        self.folder.mkdir(parents=True, exist_ok=True)
        hashes = sorted(self.vectors)
        matrix = np.stack([self.vectors[h] for h in hashes]) if hashes else np.zeros((0, 384), dtype=np.float32)
        buffer = io.BytesIO()
        np.save(buffer, matrix.astype(np.float32), allow_pickle=False)
        data = buffer.getvalue()
        atomic.write_bytes(self._matrix_path, data)
        header = {"model": _model_id(), "sha256": hashlib.sha256(data).hexdigest(), "hashes": hashes}
        atomic.write_bytes(self._header_path, json.dumps(header).encode())
        self.discarded = False


def _model_id() -> str:
    source = model_source_dir()
    return f"all-MiniLM-L6-v2:{(source / 'model.safetensors').stat().st_size}"


