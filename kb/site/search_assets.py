"""The files the browser search downloads on first use, so that it ranks like `kb search`'s hybrid.

Everything is taken from the search index (`kb.search.store`, with its pruned static model) and the ranker
(`kb.search.ranking`); nothing here encodes text. The browser fetches four files at once (`assets/kb/search/`):
`meta.json`, `words.txt`, `papers.json` and `model.bin`, the binary parts laid end to end at 4-byte aligned
offsets that `meta.json` lists (`parts`): four requests fit the browser's six connections, so a throttled
network pays its latency once. What they hold:

- `tokens` / `token_scale`: the static model's token rows and `dense` / `dense_scale`: the documents'
  sentence-transformer vectors, both projected onto one shared basis of `DIMS` directions (the top
  right-singular vectors of the document and expansion-term vectors, not centred). A query vector is a sum
  of token rows, so projecting the rows projects the query; the fusion rescales every signal to its best
  document, so norms never matter. Token rows are quantised to `TOKEN_BITS` bits with one float32 scale a
  row, document vectors to int8; `terms`: the expansion terms' projected vectors (float32);
- `words.txt`, three sections separated by a line holding a form feed: the pruned WordPiece vocabulary, one
  token a line, in id order (`kb.search.static`); the sorted BM25 terms (stems); and for every word of the
  indexed texts whose Snowball stem differs from it, `word cut added` (the stem is the word less its last
  `cut` characters, plus `added`), so the browser's Porter2 stemmer, which disagrees with PyStemmer's on a
  few words such as "added" or "internal", is only consulted for words the knowledge base never uses;
- `postings`: the BM25 postings of `kb.search.lexical.Lexical` as unsigned LEB128 varints: for each term
  (in the order of the terms) its document frequency, then for each posting `gap << 2 | min(count - 1, 3)`
  (the gap from the previous document number, ascending) followed by `count - 4` when the count is 4 or more;
  the browser sums each document's counts for its length;
- `meta.json`: settings (tokeniser, fusion weights, expansion, exact-match kinds and floors, BM25 constants,
  stop words), the areas and facets for filters;
- `papers.json`: per paper what the results, filters and exact matches need (id, title, year, authors as
  indices into one shared list, areas and facet values as indices, earlier titles, acronyms the summary
  defines); a result's address is `papers/<file stem>/`.

The sizes were chosen with `benchmarks/site_search_agreement.py` (figures in site/search.md): 96 dimensions
with 4-bit token rows and 8-bit documents keep top-1 agreement with `kb search` near 0.86 and overlap@10
near 0.93 on the needs, and the whole download under 1 MiB for about 1,000 papers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.identifier import file_stem
from kb.knowledge_base import KnowledgeBase

if TYPE_CHECKING:
    from kb.search.store import SearchIndex

DIMS = 96
TOKEN_BITS = 4
FORMAT = 4
ENCODER_WIDTH = 384
SECTION = "\n\f\n"


@dataclass
class SearchAssets:
    files: dict[str, bytes]

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


def varints(values: list[int]) -> bytes:
    """Unsigned LEB128: seven bits a byte, low bits first, the high bit set on every byte but the last."""
    out = bytearray()
    for number in values:
        rest = number
        while rest >= 0x80:
            out.append((rest & 0x7F) | 0x80)
            rest >>= 7
        out.append(rest)
    return bytes(out)


def basis(*matrices: np.ndarray, dims: int = DIMS) -> np.ndarray:
    """`dims` orthonormal directions (rows) that carry most of the given vectors."""
    present = [m for m in matrices if len(m)]
    if not present:
        return np.eye(dims, ENCODER_WIDTH, dtype=np.float32)
    stacked = np.vstack(present).astype(np.float64)
    # The right-singular vectors are the eigenvectors of the 384 x 384 Gram matrix: the same basis as an SVD of
    # the stacked rows, without its cost (seconds on this machine's BLAS for a few thousand rows).
    values, vectors = np.linalg.eigh(stacked.T @ stacked)
    order = np.argsort(-values)[:dims]
    width = stacked.shape[1]
    out = np.zeros((min(dims, width), width), dtype=np.float32)
    out[: len(order)] = vectors[:, order].T
    return out


def build(index: SearchIndex, kb: KnowledgeBase, url_of: dict[str, str]) -> SearchAssets:
    from kb.search import lexical
    from kb.search import ranking as search
    from kb.search.static import MAX_TOKENS

    searcher = search.Searcher(index)
    names, term_vectors = searcher.expansion_terms()
    documents = index.documents
    dense = index.dense.vectors() if documents else np.zeros((0, ENCODER_WIDTH), np.float32)
    projection = basis(dense, term_vectors)
    token_values, token_scale = quantise(index.encoder.embeddings @ projection.T, TOKEN_BITS)
    dense_values, dense_scale = quantise(dense @ projection.T)
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
    stream: list[int] = []
    for term in term_list:
        postings = sorted(bm25.postings[term])
        stream.append(len(postings))
        previous = 0
        for doc, count in postings:
            stream.append((doc - previous) << 2 | min(count - 1, 3))
            if count >= 4:
                stream.append(count - 4)
            previous = doc

    records = kb.records
    taxonomy = kb.taxonomy
    areas = list(taxonomy.areas)
    area_at = {a: i for i, a in enumerate(areas)}
    facets = list(taxonomy.registry)
    value_at = {f.key: {v: i for i, v in enumerate(f.values())} for f in facets}
    authors: dict[str, int] = {}
    papers = []
    for d in documents:
        r = records[d.id]
        entry: list[object] = [
            r.id,
            r.title,
            r.year,
            [authors.setdefault(a, len(authors)) for a in r.authors],
            [area_at[a] for a in r.taxonomy],
            [[value_at[f.key][v] for v in r.values(f.key)] for f in facets],
            list(r.aliases),
            search.defined_acronyms(d.text),
        ]
        if url_of[r.id] != f"papers/{file_stem(r.id)}/":
            entry.append(url_of[r.id])
        papers.append(entry)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "papers": len(documents),
        "dims": int(projection.shape[0]),
        "token_bits": TOKEN_BITS,
        "vocab_size": len(vocab),
        "unk_id": vocab_map.get(tokenizer["model"].get("unk_token", "[UNK]")),
        "lowercase": lowercase,
        "strip_accents": lowercase if strip is None else bool(strip),
        "max_tokens": MAX_TOKENS,
        "max_query_chars": search.MAX_QUERY_CHARS,
        "weights": {"lexical": search.LEXICAL_WEIGHT, "dense": search.DENSE_WEIGHT},
        "expansion": {"z": search.EXPANSION_Z, "terms": search.EXPANSION_TERMS, "names": names},
        "exact": {"kinds": search.EXACT, "at_most": search.EXACT_AT_MOST, "acronym_min": search.ACRONYM_MIN},
        "floor": {"coverage": search.COVERAGE_FLOOR, "paper": search.PAPER_FLOOR},
        "bm25": {
            "k1": lexical.K1,
            "b": lexical.B,
            "stemmed": lexical.tokenize("running") == ["run"],
            "stop_words": sorted(lexical.STOP_WORDS),
        },
        "perspectives": {a: taxonomy.areas[a].name for a in taxonomy.roots()},
        "areas": [[a, taxonomy.path_name(a), [area_at[p] for p in taxonomy.ancestors(a)]] for a in areas],
        "facets": [{"key": f.key, "label": f.label, "values": {v: f.name(v) for v in f.values()}} for f in facets],
    }
    binary = {
        "tokens": pack_nibbles(token_values) if TOKEN_BITS == 4 else token_values.tobytes(),
        "token_scale": token_scale.tobytes(),
        "dense": dense_values.tobytes(),
        "dense_scale": dense_scale.tobytes(),
        "terms": terms.tobytes(),
        "postings": varints(stream),
    }
    model = bytearray()
    parts = {}
    for name, data in binary.items():
        model.extend(b"\0" * (-len(model) % 4))  # typed arrays over the buffer need aligned offsets
        parts[name] = [len(model), len(data)]
        model.extend(data)
    meta["parts"] = parts
    stems = _stem_lines(_stems([d.text for d in documents] + list(names), lexical))
    files = {
        "meta.json": _json(meta),
        "words.txt": SECTION.join("\n".join(lines) for lines in (vocab, term_list, stems)).encode(),
        "papers.json": _json({"authors": list(authors), "papers": papers}),
        "model.bin": bytes(model),
    }
    return SearchAssets(files)


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


def _stem_lines(stems: dict[str, str]) -> list[str]:
    lines = []
    for word, stem in stems.items():
        common = 0
        while common < min(len(word), len(stem)) and word[common] == stem[common]:
            common += 1
        lines.append(f"{word} {len(word) - common} {stem[common:]}".rstrip())
    return lines


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def write(assets: SearchAssets, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in assets.files.items():
        (folder / name).write_bytes(data)
