"""Semantic search over the records: BM25 and static-vector scores fused, with taxonomy query expansion.

Rankers (all score every document; filters then keep the allowed ones):
- `bm25`: lexical BM25 over the indexed document text (`kb.index.document_text`);
- `dense`: the real sentence-transformer on query and documents (imports torch; the baseline);
- `static`: the distilled static model on query and documents (no torch);
- `hybrid` (shipped, no torch at query time): 0.7 x BM25 + 0.2 x similarity of the static query vector
  to the documents' sentence-transformer vectors + 0.1 x static-to-static similarity, each rescaled so
  the best document scores 1. The query is first expanded with the name of the taxonomy term (method
  family, leaf area, granularity) that stands out as closest to it in meaning, so "neurons that fire only for images" also
  matches papers labelled *Neuron analysis*.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from kb.errors import KbError
from kb.index import SearchIndex, ensure_index
from kb.project import Project

if TYPE_CHECKING:
    import numpy as np

RANKERS = ("hybrid", "bm25", "static", "dense")
MAX_QUERY_CHARS = 2000
# Fusion settings, tuned on tests/search/data/needs.yaml only (see benchmarks/search_quality.py).
LEXICAL_WEIGHT = 0.7
DENSE_WEIGHT = 0.2
EXPANSION_Z = 2.5
EXPANSION_TERMS = 1
EXPANDED_FACETS = ("method_family", "area", "granularity")


@dataclass(frozen=True)
class Filters:
    area: str | None = None
    years: tuple[int | None, int | None] | None = None
    modality: str | None = None
    contribution: str | None = None


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    year: int
    score: float
    areas: tuple[str, ...]


class Searcher:
    """Holds an index and its encoders in memory so that repeated queries take milliseconds."""

    def __init__(self, project: Project, index: SearchIndex | None = None, progress: bool = False) -> None:
        from kb.static_model import encoder, static_model_dir

        self.project = project
        self.index = index or ensure_index(project, progress=progress)
        self.encoder = encoder(self.index.model_dir or static_model_dir(project))
        self._static = self.index.static_vectors()
        self._dense = self.index.dense_vectors()
        self._terms: tuple[list[str], np.ndarray] | None = None

    # -- rankers ---------------------------------------------------------------------------------
    def scores(self, query: str, ranker: str = "hybrid") -> np.ndarray:
        import numpy as np

        if ranker not in RANKERS:
            raise KbError(f"unknown ranker '{ranker}'{_hint(ranker, RANKERS)}")
        if not self.index.documents:
            return np.zeros(0, dtype=np.float32)
        if ranker == "bm25":
            return self.index.bm25.scores(query)
        if ranker == "static":
            return self._static @ self.encoder.encode([query])[0]
        if ranker == "dense":
            from kb.embedding import encode_dense

            return np.asarray(self._dense @ encode_dense([query])[0])
        return self._hybrid(query)

    def _hybrid(self, query: str) -> np.ndarray:
        import numpy as np

        vector = self.encoder.encode([query])[0]
        lexical = self.index.bm25.scores(query)
        if not vector.any() and not lexical.any():
            return np.zeros(len(self.index.documents), dtype=np.float32)
        expanded = " ".join([query, *self.expansion(vector)])
        lexical = _to_unit(self.index.bm25.scores(expanded), around_median=False)
        # The static query vector lives in the transformer's output space, so it is compared with the
        # documents' real sentence-transformer vectors (computed once per record at index time) ...
        semantic = _to_unit(self._dense @ self.encoder.encode([expanded])[0])
        # ... and, with a small weight, with the documents' static vectors (same tokens, same weights).
        static = _to_unit(self._static @ vector)
        return LEXICAL_WEIGHT * lexical + DENSE_WEIGHT * semantic + (1 - LEXICAL_WEIGHT - DENSE_WEIGHT) * static

    def expansion(self, vector: np.ndarray) -> list[str]:
        """The name of the taxonomy term closest in meaning to the query, when it stands out: its
        similarity must be EXPANSION_Z standard deviations above the mean over all terms (static
        similarities are all high, so an absolute threshold would expand every query)."""
        import numpy as np

        names, vectors = self.expansion_terms()
        if not vector.any() or len(names) < 2:
            return []
        similarity = vectors @ vector
        spread = float(similarity.std())
        z = (similarity - similarity.mean()) / spread if spread > 0 else np.zeros_like(similarity)
        best = np.argsort(-z)[:EXPANSION_TERMS]
        return [names[i] for i in best if z[i] >= EXPANSION_Z]

    def expansion_terms(self) -> tuple[list[str], np.ndarray]:
        """The candidate expansion names and their static vectors (the site's browser search ships them)."""
        import numpy as np

        if self._terms is None:
            parents = {p for chain in self.index.area_ancestors.values() for p in chain}
            names, texts = [], []
            for facet in EXPANDED_FACETS:
                for term, text in self.index.vocabulary.get(facet, {}).items():
                    if facet == "area" and term in parents:
                        continue  # broad areas ("Model", "Data") match everything and say nothing
                    names.append(text.partition(":")[0])
                    texts.append(text)
            self._terms = (names, self.encoder.encode(texts) if texts else np.zeros((0, self.encoder.embeddings.shape[1]), dtype=np.float32))
        return self._terms

    # -- the search ------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, filters: Filters | None = None, ranker: str = "hybrid") -> list[Hit]:
        import numpy as np

        query = " ".join(query.split())[:MAX_QUERY_CHARS]
        if not query:
            raise KbError("nothing to search for: give a question or some words")
        if k < 1:
            raise KbError(f"-k must be at least 1, got {k}")
        allowed = self.allowed(filters or Filters())
        if not allowed.any():
            return []
        scores = self.scores(query, ranker)
        scores = np.where(allowed & (scores > 0), scores, -np.inf)
        order = np.argsort(-scores, kind="stable")[:k]
        docs = self.index.documents
        return [Hit(docs[i].id, docs[i].title, docs[i].year, round(float(scores[i]), 4), tuple(docs[i].areas))
                for i in order if np.isfinite(scores[i])]

    def allowed(self, filters: Filters) -> np.ndarray:
        import numpy as np

        docs = self.index.documents
        mask = np.ones(len(docs), dtype=bool)
        if filters.area is not None:
            area = self._term("area", filters.area)
            mask &= [any(a == area or area in self.index.area_ancestors.get(a, []) for a in d.areas) for d in docs]
        if filters.years is not None:
            low, high = filters.years
            mask &= [(low is None or low <= d.year) and (high is None or d.year <= high) for d in docs]
        if filters.modality is not None:
            modality = self._term("modality", filters.modality)
            mask &= [modality in d.modalities for d in docs]
        if filters.contribution is not None:
            contribution = self._term("contribution", filters.contribution)
            mask &= [d.contribution == contribution for d in docs]
        return mask

    def _term(self, facet: str, value: str) -> str:
        terms = self.index.vocabulary.get(facet, {})
        if value in terms:
            return value
        by_name = {text.partition(":")[0].casefold(): term for term, text in terms.items()}
        if value.casefold() in by_name:
            return by_name[value.casefold()]
        raise KbError(f"unknown {facet.replace('_', ' ')} '{value}'{_hint(value, terms)}; one of: {', '.join(terms)}")


def _hint(value: str, choices: object) -> str:
    from kb.taxonomy import did_you_mean  # pydantic is not needed on the happy path of a cold query

    return did_you_mean(value, choices)  # type: ignore[arg-type]


def _to_unit(scores: np.ndarray, around_median: bool = True) -> np.ndarray:
    """Best document 1; the rest relative to it. Cosines of unrelated texts are not zero, so for them
    the median document is moved to 0 (and those below it clipped)."""
    import numpy as np

    low = float(np.median(scores)) if around_median else 0.0
    high = float(scores.max()) if len(scores) else 0.0
    if high <= low:
        return np.zeros_like(scores)
    return np.clip((scores - low) / (high - low), 0, None)


@lru_cache(maxsize=2)
def searcher(project: Project) -> Searcher:
    """One warm Searcher per knowledge base for long-running callers (it does not notice later edits)."""
    return Searcher(project)


def search(project: Project, query: str, k: int = 10, filters: Filters | None = None, ranker: str = "hybrid") -> list[Hit]:
    return Searcher(project).search(query, k, filters, ranker)


# -- related papers -------------------------------------------------------------------------------

def related_all(project: Project, k: int = 5, index: SearchIndex | None = None) -> dict[str, list[tuple[str, float]]]:
    """For every paper, its k nearest papers by sentence-transformer similarity of the indexed text.

    One matrix product for the whole knowledge base; vectors come from the per-record cache, so only
    changed records are embedded again (the first run embeds everything, ~20 records a second)."""
    import numpy as np

    index = index or ensure_index(project, progress=True)
    ids = index.ids
    if not ids:
        return {}
    vectors = index.dense_vectors()
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    out: dict[str, list[tuple[str, float]]] = {}
    for row, paper_id in enumerate(ids):
        order = np.argsort(-similarity[row], kind="stable")[: min(k, len(ids) - 1)]
        out[paper_id] = [(ids[j], round(float(similarity[row, j]), 4)) for j in order]
    return out


def related(project: Project, paper_id: str, k: int = 5, index: SearchIndex | None = None) -> list[tuple[str, float]]:
    from kb.identifier import normalise_arxiv

    index = index or ensure_index(project)
    wanted = paper_id.strip()
    if wanted not in index.ids:
        try:
            wanted = normalise_arxiv(wanted)
        except ValueError:
            pass
    if wanted not in index.ids:
        raise KbError(f"no record '{paper_id}' in papers/{_hint(paper_id, index.ids)}")
    return related_all(project, k, index)[wanted]
