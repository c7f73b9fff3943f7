"""The files the browser search downloads, so that it ranks like `kb search`'s shipped hybrid.

Everything is taken from the search index (`kb.search.store`, with its static model) and the ranker
(`kb.search.ranking`); nothing here encodes text. What the browser gets:

- the static model's token rows, the documents' sentence-transformer vectors, their static vectors
  and the expansion terms' static vectors, all projected onto one shared basis of `DIMS` directions
  (the top right-singular vectors of the document and term vectors, not centred). A query vector is a
  sum of token rows, so projecting the rows projects the query; the fusion rescales every signal to
  its best document, so query norms never matter. Token rows are quantised to `TOKEN_BITS` bits with
  one float32 scale per row, document vectors to int8;
- the WordPiece vocabulary and the normaliser settings of `tokenizer.json`;
- the BM25 postings of `kb.search.lexical.Lexical` (stemmed terms, per-document length norms) with the stop
  words and a surface-word -> stem table for every word of the indexed texts, so that the browser's
  Porter2 stemmer is only consulted for words the knowledge base never uses;
- the fusion weights and expansion settings from `kb.search.ranking`, and the paper list for display and filters.

The choice of 128 dimensions at 4 bits was measured (`benchmarks/site_search_agreement.py`, numbers in
site/search.md): against full 384-dimension vectors it cuts the download from ~12 MiB to ~2.3 MiB and
keeps top-1 agreement with `kb search` at about 94 %.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.knowledge_base import KnowledgeBase

if TYPE_CHECKING:
    from kb.search.store import SearchIndex

DIMS = 128
TOKEN_BITS = 4
FORMAT = 2
SNIPPET_CHARS = 220  # the result list shows the start of each summary


@dataclass
class SearchAssets:
    files: dict[str, bytes]
    index: SearchIndex

    @property
    def sizes(self) -> dict[str, int]:
        return {name: len(data) for name, data in self.files.items()}


def quantise(matrix: np.ndarray, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row quantisation: integers in [-(2^(bits-1)), 2^(bits-1) - 1] and one scale a row."""
    top = 2 ** (bits - 1) - 1
    scale = np.abs(matrix).max(axis=1) / top if len(matrix) else np.zeros(0, np.float32)
    scale[scale == 0] = 1.0
    values = np.clip(np.round(matrix / scale[:, None]), -top - 1, top).astype(np.int8)
    return values, scale.astype(np.float32)


def pack_nibbles(values: np.ndarray) -> bytes:
    """Two signed 4-bit values a byte, low nibble first (the browser unpacks them the same way)."""
    flat = (values.reshape(-1).astype(np.int16) & 0xF).astype(np.uint8)
    if len(flat) % 2:
        flat = np.append(flat, np.uint8(0))
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()


def basis(*matrices: np.ndarray, dims: int = DIMS) -> np.ndarray:
    """`dims` orthonormal directions (rows) that carry most of the given vectors."""
    stacked = np.vstack([m for m in matrices if len(m)]).astype(np.float64)
    _, _, vt = np.linalg.svd(stacked, full_matrices=False)
    width = stacked.shape[1]
    out = np.zeros((min(dims, width), width), dtype=np.float32)
    out[: len(vt[:dims])] = vt[:dims]
    return out


def build(index: SearchIndex, kb: KnowledgeBase, url_of: dict[str, str]) -> SearchAssets:
    from kb.search import lexical
    from kb.search import ranking as search
    from kb.search.static import MAX_TOKENS

    searcher = search.Searcher(index)
    names, term_vectors = searcher.expansion_terms()
    documents = index.documents
    dense = index.dense.vectors() if documents else np.zeros((0, 384), np.float32)
    static = index.static.vectors() if documents else np.zeros((0, 384), np.float32)
    model = index.encoder
    projection = basis(dense, static, term_vectors) if (len(dense) or len(term_vectors)) else np.eye(DIMS, 384, dtype=np.float32)
    dims = projection.shape[0]

    token_values, token_scale = quantise(model.embeddings @ projection.T, TOKEN_BITS)
    dense_values, dense_scale = quantise(dense @ projection.T)
    static_values, static_scale = quantise(static @ projection.T)
    terms = (term_vectors @ projection.T).astype(np.float32)

    tokenizer = json.loads((index.folder / "tokenizer.json").read_text(encoding="utf-8"))
    vocab_map: dict[str, int] = tokenizer["model"]["vocab"]
    vocab = [""] * len(vocab_map)
    for token, position in vocab_map.items():
        vocab[position] = token
    normaliser = tokenizer.get("normalizer") or {}
    lowercase = bool(normaliser.get("lowercase", True))
    strip = normaliser.get("strip_accents")  # BertNormalizer: None means "follow lowercase"

    bm25 = index.bm25
    term_list = sorted(bm25.postings)
    offsets = np.zeros(len(term_list) + 1, dtype=np.uint32)
    post_docs: list[int] = []
    post_counts: list[int] = []
    for i, term in enumerate(term_list):
        for doc, count in bm25.postings[term]:
            post_docs.append(doc)
            post_counts.append(count)
        offsets[i + 1] = len(post_docs)
    integer = np.uint32 if len(documents) > 65535 else np.uint16
    most = max(post_counts, default=0)
    counter = np.uint8 if most < 256 else np.uint16 if most < 65536 else np.uint32
    stems = _stems([d.text for d in documents] + list(names), lexical)

    records = kb.records
    taxonomy = kb.taxonomy
    papers = []
    for d in documents:
        r = records[d.id]
        papers.append({
            "id": r.id, "title": r.title, "year": r.year, "url": url_of[r.id], "summary": _snippet(r.summary),
            "perspectives": sorted({taxonomy.perspective(a) for a in r.taxonomy}),
            "facets": {f.key: list(r.values(f.key)) for f in taxonomy.registry},
        })
    meta = {
        "format": FORMAT,
        "papers": len(documents),
        "dims": dims,
        "token_bits": TOKEN_BITS,
        "vocab_size": len(vocab),
        "unk_id": vocab_map.get(tokenizer["model"].get("unk_token", "[UNK]")),
        "lowercase": lowercase,
        "strip_accents": lowercase if strip is None else bool(strip),
        "max_tokens": MAX_TOKENS,
        "max_query_chars": search.MAX_QUERY_CHARS,
        "weights": {"lexical": search.LEXICAL_WEIGHT, "dense": search.DENSE_WEIGHT, "static": round(1 - search.LEXICAL_WEIGHT - search.DENSE_WEIGHT, 6)},
        "expansion": {"z": search.EXPANSION_Z, "terms": search.EXPANSION_TERMS, "names": names},
        "bm25": {"k1": lexical.K1, "b": lexical.B, "terms": term_list, "norm": [round(float(x), 6) for x in bm25.norm],
                 "doc_bytes": np.dtype(integer).itemsize, "count_bytes": np.dtype(counter).itemsize, "stemmed": lexical.tokenize("running") == ["run"], "stop_words": sorted(lexical.STOP_WORDS), "stems": stems},
        "perspectives": {a: taxonomy.areas[a].name for a in taxonomy.roots()},
        "facets": [{"key": f.key, "label": f.label, "values": {v: f.name(v) for v in f.values()}} for f in taxonomy.registry],
    }
    binary = {
        "tokens.bin": pack_nibbles(token_values) if TOKEN_BITS == 4 else token_values.tobytes(),
        "tokens.scale": token_scale.tobytes(),
        "dense.i8": dense_values.tobytes(), "dense.scale": dense_scale.tobytes(),
        "static.i8": static_values.tobytes(), "static.scale": static_scale.tobytes(),
        "terms.f32": terms.tobytes(),
        "postings.offsets": offsets.tobytes(),
        "postings.docs": np.asarray(post_docs, dtype=integer).tobytes(),
        "postings.counts": np.asarray(post_counts, dtype=counter).tobytes(),
    }
    files = {
        "meta.json": _json(meta),
        "vocab.json": json.dumps(vocab, ensure_ascii=False, separators=(",", ":")).encode(),
        "papers.json": _json(papers),
        **binary,
    }
    return SearchAssets(files, index)


def _stems(texts: list[str], lexical: object) -> dict[str, str]:
    """Surface word -> Snowball stem for the words of the indexed texts, where the stem differs from
    the word. With it the browser stems every known word exactly as PyStemmer does (its Porter2
    stemmer disagrees on a few words such as "added" or "internal")."""
    words: set[str] = set()
    for text in texts:
        words.update(lexical.WORD.findall(text.casefold()))  # type: ignore[attr-defined]
    kept = sorted(w for w in words if w not in lexical.STOP_WORDS)  # type: ignore[attr-defined]
    stems = lexical.tokenize(" ".join(kept))  # type: ignore[attr-defined]
    return {w: s for w, s in zip(kept, stems, strict=True) if w != s}


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def write(assets: SearchAssets, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in assets.files.items():
        (folder / name).write_bytes(data)
