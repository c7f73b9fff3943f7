"""The search index on disk: one document per record, its static vectors in faiss, aligned ids, checks.

Layout of `build/search/index/`: `meta.json` (written last, atomically) names content-addressed faiss
files (`static-<sha>.faiss`, `dense-<sha>.faiss`) and holds their sha256, the aligned id list, the text
and facets of every document, the records' fingerprint and the cheap source stamp. A reader trusts the
index only when the stamp matches the files on disk (or the records' fingerprint matches after loading
them) and every checksum matches; otherwise the index is rebuilt. A search never runs on stale vectors.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.knowledge_base import KnowledgeBase
from kb.project import Project, source_stamp
from kb.records import Record
from kb.taxonomy import Taxonomy

if TYPE_CHECKING:
    import faiss
    import numpy as np

FORMAT = 2


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
    area_ancestors: dict[str, list[str]] = field(default_factory=dict)
    vocabulary: dict[str, dict[str, str]] = field(default_factory=dict)
    _bm25: Any = None

    @property
    def ids(self) -> list[str]:
        return [d.id for d in self.documents]

    def static_vectors(self) -> np.ndarray:
        return self.static.reconstruct_n(0, self.static.ntotal)

    @property
    def bm25(self) -> Any:
        if self._bm25 is None:
            from kb.lexical import Lexical

            self._bm25 = Lexical([d.text for d in self.documents])
        return self._bm25


def ensure_index(project: Project, kb: KnowledgeBase | None = None) -> SearchIndex:
    """The current index, rebuilt first when the records, taxonomy or static model changed or a file is bad."""
    from kb.static_model import source_hash, static_model_dir

    model_dir = static_model_dir(project)
    folder = index_dir(project)
    meta = _read_meta(folder)
    stamp = source_stamp(project)
    if meta is not None and meta.get("model") == source_hash():
        if meta.get("stamp") == stamp and kb is None:
            index = _open(folder, meta)
            if index is not None:
                return index
        if kb is None:
            from kb.loader import load

            kb = load(project)
        if meta.get("fingerprint") == kb.fingerprint():
            index = _open(folder, meta)
            if index is not None:
                if meta.get("stamp") != stamp:
                    meta["stamp"] = stamp
                    _write_atomic(folder / "meta.json", json.dumps(meta).encode())
                return index
    if kb is None:
        from kb.loader import load

        kb = load(project)
    return build_index(project, kb, model_dir, stamp)


def build_index(project: Project, kb: KnowledgeBase, model_dir: Path, stamp: str) -> SearchIndex:
    import faiss
    import numpy as np

    from kb.static_model import encoder, source_hash

    folder = index_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    documents = [Document.of(r, kb.taxonomy) for r in sorted(kb, key=lambda r: r.id)]
    vectors = encoder(model_dir).encode([d.text for d in documents])
    static = faiss.IndexFlatIP(vectors.shape[1])
    static.add(np.ascontiguousarray(vectors, dtype=np.float32))
    name, digest = _save_faiss(folder, "static", static)
    meta = {
        "format": FORMAT, "model": source_hash(), "fingerprint": kb.fingerprint(), "stamp": stamp,
        "static": {"file": name, "sha256": digest},
        "documents": [d.__dict__ for d in documents],
        "area_ancestors": {a: kb.taxonomy.ancestors(a) for a in kb.taxonomy.areas},
        "vocabulary": vocabulary(kb.taxonomy),
    }
    _write_atomic(folder / "meta.json", json.dumps(meta).encode())
    _prune(folder, {name})
    return SearchIndex(folder, documents, meta["fingerprint"], static, meta["area_ancestors"], meta["vocabulary"])


def vocabulary(taxonomy: Taxonomy) -> dict[str, dict[str, str]]:
    """The taxonomy's words, kept in the index so a cold search can check filters and expand queries
    without reading the taxonomy: facet -> {term id: "name: description"}."""
    out = {"area": {a.id: f"{a.name}: {a.description}" for a in taxonomy.areas.values()},
           "method_family": {t.id: f"{t.name}: {t.description}" for t in taxonomy.method_families.values()}}
    for facet in ("granularity", "modality", "contribution"):
        out[facet] = {t.id: f"{t.name}: {t.description}" for t in taxonomy.facets[facet].values()}
    return out


def dense_index(project: Project, index: SearchIndex, progress: bool = False) -> Any:
    """A faiss index of the real sentence-transformer vectors of the same documents (imports torch).

    Saved next to the static index with its own checksum; vectors come from the per-text cache, so a
    change to one record embeds one text again."""
    import faiss
    import numpy as np

    from kb.embedding import EmbeddingCache

    meta = _read_meta(index.folder) or {}
    entry = meta.get("dense") or {}
    if entry.get("fingerprint") == index.fingerprint:
        loaded = _load_faiss(index.folder / entry.get("file", ""), entry.get("sha256", ""))
        if loaded is not None and loaded.ntotal == len(index.documents):
            return loaded
    cache = EmbeddingCache(project.build_dir / "search" / "embeddings")
    vectors = cache.embed([d.text for d in index.documents], progress=progress)
    dense = faiss.IndexFlatIP(384)
    if len(vectors):
        dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
    name, digest = _save_faiss(index.folder, "dense", dense)
    if meta.get("fingerprint") == index.fingerprint:
        old = meta.get("dense", {}).get("file")
        meta["dense"] = {"file": name, "sha256": digest, "fingerprint": index.fingerprint}
        _write_atomic(index.folder / "meta.json", json.dumps(meta).encode())
        if old and old != name:
            _prune(index.folder, {meta["static"]["file"], name})
    return dense


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
    except (KeyError, TypeError):
        return None
    if static is None or static.ntotal != len(documents):
        return None
    return SearchIndex(folder, documents, meta["fingerprint"], static, meta.get("area_ancestors", {}), meta.get("vocabulary", {}))


def _save_faiss(folder: Path, kind: str, index: faiss.Index) -> tuple[str, str]:
    import faiss

    data = faiss.serialize_index(index).tobytes()
    digest = hashlib.sha256(data).hexdigest()
    name = f"{kind}-{digest[:16]}.faiss"
    if not (folder / name).exists():
        _write_atomic(folder / name, data)
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


def _prune(folder: Path, keep: set[str]) -> None:
    meta = _read_meta(folder) or {}
    keep = keep | {meta.get("dense", {}).get("file", "")}
    for path in folder.glob("*.faiss"):
        if path.name not in keep:
            path.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
