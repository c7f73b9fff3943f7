"""Semantic search over the records: BM25 and static-vector scores fused, with taxonomy query expansion.

Rankers (all score every document; filters then keep the allowed ones):
- `bm25`: lexical BM25 over the indexed document text (`kb.index.document_text`);
- `dense`: the real sentence-transformer on query and documents (imports torch; the baseline);
- `static`: the distilled static model on query and documents (no torch);
- `hybrid` (shipped): a weighted sum of max-normalised BM25 and rescaled static similarity, where the
  query is first expanded with the names of the taxonomy terms (method families, areas, facets) it is
  closest to, so "neurons that fire only for images" also matches papers labelled *Neuron analysis*.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kb.errors import KbError
from kb.index import SearchIndex, ensure_index
from kb.project import Project
from kb.taxonomy import did_you_mean

if TYPE_CHECKING:
    import numpy as np

RANKERS = ("hybrid", "bm25", "static", "dense")
MAX_QUERY_CHARS = 2000
# Fusion settings, tuned on tests/search/data/needs.yaml only (see benchmarks/search_quality.py).
LEXICAL_WEIGHT = 0.5
EXPANSION_THRESHOLD = 0.55
EXPANSION_TERMS = 2
EXPANDED_FACETS = ("method_family", "area", "granularity")


@dataclass(frozen=True)
class Filters:
    area: str | None = None
    years: tuple[int, int] | None = None
    modality: str | None = None
    contribution: str | None = None


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    year: int
    score: float
    areas: tuple[str, ...]


def parse_years(text: str) -> tuple[int, int]:
    """'2023' or '2022..2024' (either end may be left open: '2023..', '..2024')."""
    first, sep, last = text.partition("..")
    try:
        low = int(first) if first.strip() else 0
        high = int(last) if sep and last.strip() else (9999 if sep else low)
    except ValueError:
        raise KbError(f"--year '{text}' is not a year or a range like 2022..2024") from None
    if low > high:
        raise KbError(f"--year '{text}': the first year is after the last")
    return low, high


class Searcher:
    """Holds an index and its encoders in memory so that repeated queries take milliseconds."""

    def __init__(self, project: Project, index: SearchIndex | None = None) -> None:
        from kb.static_model import encoder, static_model_dir

        self.project = project
        self.index = index or ensure_index(project)
        self.encoder = encoder(static_model_dir(project))
        self._static = self.index.static_vectors()
        self._dense: Any = None
        self._terms: tuple[list[str], np.ndarray] | None = None

    # -- rankers ---------------------------------------------------------------------------------
    def scores(self, query: str, ranker: str = "hybrid") -> np.ndarray:
        import numpy as np

        if ranker == "bm25":
            return self.index.bm25.scores(query)
        if ranker == "static":
            return self._static @ self.encoder.encode([query])[0]
        if ranker == "dense":
            from kb.embedding import encode_dense
            from kb.index import dense_index

            if self._dense is None:
                self._dense = dense_index(self.project, self.index).reconstruct_n(0, len(self.index.documents))
            return np.asarray(self._dense @ encode_dense([query])[0])
        if ranker == "hybrid":
            return self._hybrid(query)
        raise KbError(f"unknown ranker '{ranker}'{did_you_mean(ranker, RANKERS)}")

    def _hybrid(self, query: str) -> np.ndarray:
        import numpy as np

        vector = self.encoder.encode([query])[0]
        expanded = " ".join([query, *self.expansion(vector)])
        lexical = self.index.bm25.scores(expanded)
        semantic = self._static @ self.encoder.encode([expanded])[0]
        if not vector.any() and not lexical.any():
            return np.zeros(len(self.index.documents), dtype=np.float32)
        top = lexical.max()
        lexical = lexical / top if top > 0 else lexical
        # Cosines of unrelated texts are not zero: rescale so the median document scores 0 and the best 1.
        low, high = float(np.median(semantic)), float(semantic.max())
        semantic = np.clip((semantic - low) / (high - low), 0, None) if high > low else np.zeros_like(semantic)
        return LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * semantic

    def expansion(self, vector: np.ndarray) -> list[str]:
        """Names of the taxonomy terms closest in meaning to the query, when close enough."""
        import numpy as np

        if self._terms is None:
            names, texts = [], []
            for facet in EXPANDED_FACETS:
                for text in self.index.vocabulary.get(facet, {}).values():
                    names.append(text.partition(":")[0])
                    texts.append(text)
            self._terms = (names, self.encoder.encode(texts) if texts else np.zeros((0, len(vector)), dtype=np.float32))
        names, vectors = self._terms
        if not vector.any() or not names:
            return []
        similarity = vectors @ vector
        best = np.argsort(-similarity)[:EXPANSION_TERMS]
        return [names[i] for i in best if similarity[i] >= EXPANSION_THRESHOLD]

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
        vocabulary = self.index.vocabulary
        if filters.area is not None:
            area = self._term("area", filters.area)
            mask &= [any(a == area or area in self.index.area_ancestors.get(a, []) for a in d.areas) for d in docs]
        if filters.years is not None:
            low, high = filters.years
            mask &= [low <= d.year <= high for d in docs]
        if filters.modality is not None:
            modality = self._term("modality", filters.modality)
            mask &= [modality in d.modalities for d in docs]
        if filters.contribution is not None:
            contribution = self._term("contribution", filters.contribution)
            mask &= [d.contribution == contribution for d in docs]
        del vocabulary
        return mask

    def _term(self, facet: str, value: str) -> str:
        terms = self.index.vocabulary.get(facet, {})
        if value in terms:
            return value
        by_name = {text.partition(":")[0].casefold(): term for term, text in terms.items()}
        if value.casefold() in by_name:
            return by_name[value.casefold()]
        raise KbError(f"unknown {facet.replace('_', ' ')} '{value}'{did_you_mean(value, terms)}; one of: {', '.join(terms)}")


@lru_cache(maxsize=2)
def searcher(project: Project) -> Searcher:
    return Searcher(project)


def search(project: Project, query: str, k: int = 10, filters: Filters | None = None, ranker: str = "hybrid") -> list[Hit]:
    return Searcher(project).search(query, k, filters, ranker)


# -- related papers -------------------------------------------------------------------------------

def related_all(project: Project, k: int = 5) -> dict[str, list[tuple[str, float]]]:
    """For every paper, its k nearest papers by sentence-transformer similarity of the indexed text.

    One matrix product for the whole knowledge base; vectors come from the per-record cache, so only
    changed records are embedded again (the first run embeds everything, ~20 records a second)."""
    import numpy as np

    from kb.index import dense_index

    index = ensure_index(project)
    ids = index.ids
    if not ids:
        return {}
    vectors = dense_index(project, index, progress=True).reconstruct_n(0, len(ids))
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    out: dict[str, list[tuple[str, float]]] = {}
    for row, paper_id in enumerate(ids):
        order = np.argsort(-similarity[row], kind="stable")[: min(k, len(ids) - 1)]
        out[paper_id] = [(ids[j], round(float(similarity[row, j]), 4)) for j in order]
    return out


def related(project: Project, paper_id: str, k: int = 5) -> list[tuple[str, float]]:
    from kb.identifier import normalise_arxiv

    index = ensure_index(project)
    wanted = paper_id.strip()
    if wanted not in index.ids:
        try:
            wanted = normalise_arxiv(wanted)
        except ValueError:
            pass
    if wanted not in index.ids:
        raise KbError(f"no record '{paper_id}' in papers/{did_you_mean(paper_id, index.ids)}")
    return related_all(project, k)[wanted]
