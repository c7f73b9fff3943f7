"""The search index on disk: the `search_index` artefact (`kb.artefacts`).

It holds, for the current records: `documents.json` (every document's text, facets and names, plus the
vocabulary filters and query expansion need), `lexical.json` (the BM25 postings), `static.faiss` and `dense.faiss`
(static-model and
sentence-transformer vectors, rows aligned with the documents) and the static model weighted for these
documents (`model.safetensors`, `tokenizer.json`, `config.json`). It is current by the one freshness rule, so
a cold query checks a stamp and never reads the records; otherwise it is rebuilt, re-embedding only the texts
that changed. A search never runs on stale or damaged vectors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import artefacts
from kb.artefacts import Inputs
from kb.search.document import Document
from kb.search.vectors import VectorIndex

if TYPE_CHECKING:
    from kb.search.lexical import Lexical
    from kb.search.static import StaticEncoder
    from kb.taxonomy import Taxonomy

KIND = "search-index"
FORMAT = 5


@dataclass
class SearchIndex:
    folder: Path
    documents: list[Document]
    static: VectorIndex
    dense: VectorIndex
    vocabulary: dict[str, Any] = field(default_factory=dict)  # see `vocabulary`
    model_digest: str = ""

    @property
    def ids(self) -> list[str]:
        return [d.id for d in self.documents]

    @cached_property
    def position(self) -> dict[str, int]:
        return {d.id: i for i, d in enumerate(self.documents)}

    @cached_property
    def bm25(self) -> Lexical:
        from kb.search.lexical import Lexical

        return Lexical.from_bytes((self.folder / "lexical.json").read_bytes())

    @cached_property
    def encoder(self) -> StaticEncoder:
        from kb.search.static import encoder

        return encoder(self.folder, self.model_digest)

    @property
    def area_ancestors(self) -> dict[str, list[str]]:
        return self.vocabulary["area_ancestors"]  # type: ignore[no-any-return]


def ensure_index(inputs: Inputs, progress: bool = False) -> SearchIndex:
    """The current index, rebuilt first when the records, taxonomy or models changed or a file is bad."""
    from kb.search.static import source_hash

    folder = inputs.artefacts.search_index
    salt = f"{FORMAT}.{source_hash()}"
    manifest = artefacts.open_artefact(folder, KIND)
    if manifest is not None and inputs.current(manifest, salt):
        index = _open(folder, manifest)
        if index is not None:
            if inputs.stamp and manifest.stamp != inputs.stamp:
                artefacts.restamp(folder, manifest, inputs.stamp)
            return index
    return build_index(inputs, progress)


def build_index(inputs: Inputs, progress: bool = False) -> SearchIndex:
    """Weigh the static model for the documents, encode them with it (numpy) and with the transformer
    (torch, only for texts the embedding cache does not hold), and write the artefact."""
    from kb.search.static import base_vectors, source_hash, weigh
    from kb.search.token_cache import TokenCache
    from kb.search.transformer import EmbeddingCache

    kb = inputs.kb
    folder = inputs.artefacts.search_index
    documents = [Document.of(r, kb.taxonomy) for r in sorted(kb, key=lambda r: r.id)]
    texts = [d.text for d in documents]
    tokens = TokenCache(inputs.artefacts.search_tokens, source_hash())
    files, vectors = weigh(base_vectors(inputs.artefacts.search_base), texts, tokens)
    static = VectorIndex.build(vectors)
    dense = VectorIndex.build(EmbeddingCache(inputs.artefacts.embeddings).embed(texts, progress=progress))
    from kb.search.lexical import Lexical

    files["lexical.json"] = Lexical(texts).to_bytes()
    files["static.faiss"] = static.to_bytes()
    files["dense.faiss"] = dense.to_bytes()
    words = vocabulary(kb.taxonomy)
    files["documents.json"] = json.dumps(
        {"documents": [d.to_data() for d in documents], "vocabulary": words}, ensure_ascii=False
    ).encode()
    manifest = artefacts.write_artefact(folder, KIND, inputs.key(f"{FORMAT}.{source_hash()}"), inputs.stamp, files)
    # What was just written, without reading it back (documents.json alone takes ~0.4 s to parse at 5,000).
    return SearchIndex(folder, documents, static, dense, words, str(manifest.files["model.safetensors"]["sha256"]))


def vocabulary(taxonomy: Taxonomy) -> dict[str, Any]:
    """The taxonomy's words that a cold query needs without reading the taxonomy: area and term names with
    descriptions (for filters and query expansion), each facet's label, and the spellings of names."""
    facets: dict[str, Any] = {}
    for facet in taxonomy.registry:
        values = {v: f"{facet.name(v)}: {facet.vocabulary.description(v)}" for v in facet.values()}
        spellings = {}
        for value in facet.values():
            spellings[value.casefold()] = value
            spellings[facet.name(value).casefold()] = value
            if facet.in_text == "aliases":
                for alias in facet.vocabulary.description(value).split(", "):
                    if alias:
                        spellings[alias.casefold()] = value
        facets[facet.key] = {
            "label": facet.label,
            "option": facet.option,
            "values": values,
            "spellings": spellings,
            "expand": facet.in_text == "description" or facet.key == "granularity",
        }
    return {
        "areas": {a.id: f"{a.name}: {a.description}" for a in taxonomy.areas.values()},
        "area_ancestors": {a: taxonomy.ancestors(a) for a in taxonomy.areas},
        "facets": facets,
    }


def _open(folder: Path, manifest: artefacts.Manifest) -> SearchIndex | None:
    try:
        data = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
        documents = [Document.from_data(d) for d in data["documents"]]
        static = VectorIndex.from_bytes((folder / "static.faiss").read_bytes())
        dense = VectorIndex.from_bytes((folder / "dense.faiss").read_bytes())
        words = data["vocabulary"]
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return None
    if static.size != len(documents) or dense.size != len(documents):
        return None
    return SearchIndex(folder, documents, static, dense, words, str(manifest.files["model.safetensors"]["sha256"]))
