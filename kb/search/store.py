"""The search index on disk: one document per record, its static vectors in faiss, aligned ids, checks.

Layout of `build/search/index/`: `meta.json` (written last, atomically) names content-addressed faiss
files (`static-<sha>.faiss`: static-model vectors; `dense-<sha>.faiss`: sentence-transformer vectors from
the per-text cache) and holds their sha256, the aligned id list, the text and facets of every document,
the records' fingerprint, the static model's hash and the cheap source stamp. A reader trusts the
index only when the stamp matches the files on disk (or the records' fingerprint matches after loading
them) and every checksum matches; otherwise the index is rebuilt. A search never runs on stale vectors.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import atomic
from kb.project import Project, source_stamp

if TYPE_CHECKING:
    import faiss
    import numpy as np

    from kb.knowledge_base import KnowledgeBase
    from kb.records import Record
    from kb.taxonomy import Taxonomy

FORMAT = 3


def index_dir(project: Project) -> Path:
    return project.build_dir / "search" / "index"


def document_text(record: Record, taxonomy: Taxonomy) -> str:
    """Everything a researcher might search a paper by, in words: our summary and findings, the names of
    its areas, method families, facets and models (with their aliases), not only the title."""
    parts = [record.title, *record.aliases, record.summary, *record.findings]
    parts += [taxonomy.path_name(a).replace(" › ", ", ") for a in record.taxonomy]
    for family in record.method_family:
        term = taxonomy.method_families[family]
        parts.append(f"{term.name}: {term.description}")
    for facet, values in (("granularity", record.granularity), ("modality", record.modalities), ("contribution", [record.contribution])):
        parts += [f"{taxonomy.facets[facet][v].name} {facet}" for v in values]
    for name in record.models_studied:
        model = taxonomy.models.get(name)
        parts.append(" ".join([name, *(model.aliases if model else [])]))
    return "\n".join(parts)


@dataclass
class Document:
    id: str
    title: str
    year: int
    areas: list[str]
    modalities: list[str]
    contribution: str
    text: str

    @classmethod
    def of(cls, record: Record, taxonomy: Taxonomy) -> Document:
        return cls(record.id, record.title, record.year, list(record.taxonomy), list(record.modalities),
                   record.contribution, document_text(record, taxonomy))


@dataclass
class SearchIndex:
    folder: Path
    documents: list[Document]
    fingerprint: str
    static: Any  # faiss.Index over the static vectors, rows aligned with `documents`
    dense: Any  # faiss.Index over the sentence-transformer vectors, same rows
    area_ancestors: dict[str, list[str]] = field(default_factory=dict)
    vocabulary: dict[str, dict[str, str]] = field(default_factory=dict)
    model_dir: Path | None = None  # the static model the vectors were made with, checked by ensure_index
    _bm25: Any = None

    @property
    def ids(self) -> list[str]:
        return [d.id for d in self.documents]

    def static_vectors(self) -> np.ndarray:
        return self.static.reconstruct_n(0, self.static.ntotal)

    def dense_vectors(self) -> np.ndarray:
        return self.dense.reconstruct_n(0, self.dense.ntotal)

    @property
    def bm25(self) -> Any:
        if self._bm25 is None:
            from kb.lexical import Lexical

            self._bm25 = Lexical([d.text for d in self.documents])
        return self._bm25


def ensure_index(project: Project, kb: KnowledgeBase | None = None, progress: bool = False) -> SearchIndex:
    """The current index, rebuilt first when the records, taxonomy or static model changed or a file is bad."""
    from kb.static_model import model_hash, static_model_dir

    folder = index_dir(project)
    meta = _read_meta(folder)
    stamp = source_stamp(project)
    if meta is not None and kb is None and meta.get("stamp") == stamp:
        # Fast path of a cold query: nothing on disk changed since the index was built.
        model_dir = static_model_dir(project)
        if meta.get("model") == model_hash(model_dir):
            index = _open(folder, meta)
            if index is not None:
                index.model_dir = model_dir
                return index
    if kb is None:
        from kb.loader import load

        kb = load(project)
    model_dir = static_model_dir(project, kb)
    if meta is not None and meta.get("fingerprint") == kb.fingerprint() and meta.get("model") == model_hash(model_dir):
        index = _open(folder, meta)
        if index is not None:
            if meta.get("stamp") != stamp:
                meta["stamp"] = stamp
                atomic.write_bytes(folder / "meta.json", json.dumps(meta).encode())
            index.model_dir = model_dir
            return index
    return build_index(project, kb, model_dir, stamp, progress)


def build_index(project: Project, kb: KnowledgeBase, model_dir: Path, stamp: str, progress: bool = False) -> SearchIndex:
    """Static vectors (numpy) and sentence-transformer vectors (torch, only for texts not in the cache)."""
    from kb.embedding import EmbeddingCache
    from kb.static_model import encoder, model_hash

    folder = index_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    documents = [Document.of(r, kb.taxonomy) for r in sorted(kb, key=lambda r: r.id)]
    texts = [d.text for d in documents]
    static = _flat(encoder(model_dir).encode(texts), 384)
    dense = _flat(EmbeddingCache(project.build_dir / "search" / "embeddings").embed(texts, progress=progress), 384)
    static_file, static_sha = _save_faiss(folder, "static", static)
    dense_file, dense_sha = _save_faiss(folder, "dense", dense)
    meta = {
        "format": FORMAT, "model": model_hash(model_dir), "fingerprint": kb.fingerprint(), "stamp": stamp,
        "static": {"file": static_file, "sha256": static_sha},
        "dense": {"file": dense_file, "sha256": dense_sha},
        "documents": [d.__dict__ for d in documents],
        "area_ancestors": {a: kb.taxonomy.ancestors(a) for a in kb.taxonomy.areas},
        "vocabulary": vocabulary(kb.taxonomy),
    }
    atomic.write_bytes(folder / "meta.json", json.dumps(meta).encode())
    for path in folder.glob("*.faiss"):
        if path.name not in (static_file, dense_file):
            path.unlink(missing_ok=True)
    return SearchIndex(folder, documents, meta["fingerprint"], static, dense, meta["area_ancestors"], meta["vocabulary"], model_dir)


def _flat(vectors: np.ndarray, dimensions: int) -> Any:
    import faiss
    import numpy as np

    index = faiss.IndexFlatIP(vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else dimensions)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def vocabulary(taxonomy: Taxonomy) -> dict[str, dict[str, str]]:
    """The taxonomy's words, kept in the index so a cold search can check filters and expand queries
    without reading the taxonomy: facet -> {term id: "name: description"}."""
    out = {"area": {a.id: f"{a.name}: {a.description}" for a in taxonomy.areas.values()},
           "method_family": {t.id: f"{t.name}: {t.description}" for t in taxonomy.method_families.values()}}
    for facet in ("granularity", "modality", "contribution"):
        out[facet] = {t.id: f"{t.name}: {t.description}" for t in taxonomy.facets[facet].values()}
    return out


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None
    return meta


def _open(folder: Path, meta: dict[str, Any]) -> SearchIndex | None:
    try:
        documents = [Document(**d) for d in meta["documents"]]
        static = _load_faiss(folder / meta["static"]["file"], meta["static"]["sha256"])
        dense = _load_faiss(folder / meta["dense"]["file"], meta["dense"]["sha256"])
        ancestors, words = meta["area_ancestors"], meta["vocabulary"]
    except (KeyError, TypeError):
        return None
    if static is None or dense is None or static.ntotal != len(documents) or dense.ntotal != len(documents):
        return None
    return SearchIndex(folder, documents, meta["fingerprint"], static, dense, ancestors, words)


def _save_faiss(folder: Path, kind: str, index: faiss.Index) -> tuple[str, str]:
    import faiss

    data = faiss.serialize_index(index).tobytes()
    digest = hashlib.sha256(data).hexdigest()
    name = f"{kind}-{digest[:16]}.faiss"
    if not (folder / name).exists():
        atomic.write_bytes(folder / name, data)
    return name, digest


def _load_faiss(path: Path, sha256: str) -> Any:
    import faiss
    import numpy as np

    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != sha256:
        return None  # truncated or altered: never trusted
    try:
        return faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
    except RuntimeError:
        return None


