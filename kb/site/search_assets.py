"""The files the in-browser semantic search downloads: vocabulary, quantised token vectors, paper vectors
and the paper list for keyword matching and facet filters.

int8 with one float32 scale per row keeps the downloads a quarter of float32; cosine ranking barely moves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kb.knowledge_base import KnowledgeBase
from kb.records import Record
from kb.site.static_model import StaticModel


def paper_text(record: Record) -> str:
    """What a paper's vector is computed from: the same fields keyword search reads."""
    return " ".join([record.title, *record.aliases, record.summary, *record.findings])


def quantise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.abs(matrix).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    return np.round(matrix / scale[:, None]).astype(np.int8), scale.astype(np.float32)


def write(kb: KnowledgeBase, model: StaticModel, encode: Callable[[list[str]], np.ndarray], folder: Path, url_of: dict[str, str]) -> dict[str, int]:
    """Write the search files into `folder`; return their sizes in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    records = sorted(kb, key=lambda r: r.id)
    vectors = encode([paper_text(r) for r in records]) if records else np.zeros((0, model.embeddings.shape[1]), np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    token_q, token_scale = quantise(model.embeddings)
    paper_q, paper_scale = quantise(vectors) if len(records) else (np.zeros((0, vectors.shape[1]), np.int8), np.zeros(0, np.float32))
    taxonomy = kb.taxonomy
    papers = [
        {
            "id": r.id,
            "title": r.title,
            "aliases": list(r.aliases),
            "authors": list(r.authors[:6]),
            "year": r.year,
            "url": url_of[r.id],
            "summary": r.summary,
            "findings": list(r.findings),
            "areas": list(r.taxonomy),
            "perspectives": sorted({taxonomy.perspective(a) for a in r.taxonomy}),
            "granularity": list(r.granularity),
            "modalities": list(r.modalities),
            "contribution": r.contribution,
        }
        for r in records
    ]
    meta = {
        "dims": int(model.embeddings.shape[1]),
        "vocab_size": len(model.vocab),
        "papers": len(records),
        "unk_id": model.unk_id,
        "lowercase": model.lowercase,
        "strip_accents": model.strip_accents,
        "max_tokens": 512,
        "source": model.source,
        "facets": {
            "perspective": {a: taxonomy.areas[a].name for a in taxonomy.roots()},
            "granularity": {k: t.name for k, t in taxonomy.facets["granularity"].items()},
            "modality": {k: t.name for k, t in taxonomy.facets["modality"].items()},
            "contribution": {k: t.name for k, t in taxonomy.facets["contribution"].items()},
        },
    }
    files = {
        "meta.json": json.dumps(meta, separators=(",", ":")).encode(),
        "vocab.json": json.dumps(model.vocab, ensure_ascii=False, separators=(",", ":")).encode(),
        "tokens.i8": token_q.tobytes(),
        "tokens.scale": token_scale.tobytes(),
        "papers.i8": paper_q.tobytes(),
        "papers.scale": paper_scale.tobytes(),
        "papers.json": json.dumps(papers, ensure_ascii=False, separators=(",", ":")).encode(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: len(data) for name, data in files.items()}
