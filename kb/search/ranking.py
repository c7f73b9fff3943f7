"""Semantic search over the records: BM25 and static-vector scores fused, with taxonomy query expansion.

Rankers (all score every document; filters then keep the allowed ones):
- `bm25`: lexical BM25 over the indexed document text (`kb.search.document.document_text`);
- `dense`: the real sentence-transformer on query and documents (imports torch; the baseline);
- `static`: the distilled static model on query and documents (no torch);
- `hybrid` (shipped, no torch at query time): 0.7 x BM25 + 0.3 x similarity of the static query vector
  to the documents' sentence-transformer vectors, each rescaled so the best document scores 1. (A third
  signal, static query vs static documents at 0.1, was dropped: it moved development nDCG@10 by 0.009 and
  held-out by nothing, and cost the browser a second set of document vectors.) The query is first expanded with the
  name of the taxonomy term (method
  family, leaf area, granularity) that stands out as closest to it in meaning, so "neurons that fire only for images"
  also
  matches papers labelled *Neuron analysis*.

On top of the ranker, `search` (for the shipped hybrid) adds two things a researcher expects of a search box:
- **exact matches** (`Names`): a paper whose arXiv id, title, earlier title, short name (the part of a title
  before its colon), acronym or author the query names exactly ranks above every paper that only matches in
  meaning, by kind (`EXACT`); among themselves they keep the fused order;
- **a relevance floor** (`coverage`): the fused scores are relative (the best paper always scores 1), so
  whether anything answers at all is judged on the query's words. A paper's coverage is the share of the
  query's word weight (the BM25 idf of each distinct stemmed word; a word no paper uses weighs as much as
  the rarest) that its text holds. With no exact match and no paper covering `COVERAGE_FLOOR` of the query,
  the answer is "no good match" ("banana bread recipe": its best paper holds only "recipe"); otherwise
  papers below `PAPER_FLOOR` are dropped. Both floors were set on tests/search/data/needs.yaml: every
  development need has a paper above the first, and every judged-relevant paper of their top 10 is above
  the second (benchmarks/search_quality.py reports both rankings).

The site's browser search (site/assets/kb-search.js) implements all of this again and must agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from kb.artefacts import Inputs
from kb.errors import KbError
from kb.search.document import Document
from kb.search.store import SearchIndex, ensure_index

if TYPE_CHECKING:
    import numpy as np

RANKERS = ("hybrid", "bm25", "static", "dense")
MAX_QUERY_CHARS = 2000
# Fusion settings, tuned on tests/search/data/needs.yaml only (see benchmarks/search_quality.py).
LEXICAL_WEIGHT = 0.7
DENSE_WEIGHT = 0.3  # static query vs transformer documents; the rest (now 0) goes to static vs static
EXPANSION_Z = 2.5
EXPANSION_TERMS = 1
# Added to the fused score (at most 1) of a paper the query names exactly: such papers come first, by kind.
EXACT = {"arXiv id": 4.0, "title": 3.0, "acronym": 3.0, "author": 2.0, "defined acronym": 2.0, "title words": 1.0}
# A title, short name, acronym or phrase that this many papers share names none of them: no exact match.
EXACT_AT_MOST = 10
ACRONYM_MIN = 3  # letters of an acronym made from a title's initials ("VCD"; two letters match too much)
COVERAGE_FLOOR = 0.4
PAPER_FLOOR = 0.1


@dataclass(frozen=True)
class Filters:
    area: str | None = None
    years: tuple[int | None, int | None] | None = None
    facets: Mapping[str, str] = field(default_factory=dict)  # facet key -> an id, name or alias


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    year: int
    score: float
    areas: tuple[str, ...]
    match: str = ""  # the kind of exact match (a key of EXACT), or "" for a match in meaning only


class Searcher:
    """Holds an index and its encoders in memory so that repeated queries take milliseconds."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self.encoder = index.encoder
        self._terms: tuple[list[str], np.ndarray] | None = None

    @classmethod
    def open(cls, inputs: Inputs, progress: bool = False) -> Searcher:
        return cls(ensure_index(inputs, progress=progress))

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
            return self.index.static.scores(self.encoder.encode([query])[0])
        if ranker == "dense":
            from kb.search.transformer import encode_dense

            return self.index.dense.scores(encode_dense([query])[0])
        return self._hybrid(query)

    def _hybrid(self, query: str) -> np.ndarray:
        import numpy as np

        vector = self.encoder.encode([query])[0]
        lexical = self.index.bm25.scores(query)
        if not vector.any() and not lexical.any():
            return np.zeros(len(self.index.documents), dtype=np.float32)
        expanded = " ".join([query, *self.expansion(vector)])
        lexical = _to_unit(self.index.bm25.scores(expanded), around_median=False)
        # The static query vector lives in the transformer's output space, so faiss compares it with the
        # documents' real sentence-transformer vectors (computed once per record at index time) ...
        semantic = _to_unit(self.index.dense.scores(self.encoder.encode([expanded])[0]))
        fused = LEXICAL_WEIGHT * lexical + DENSE_WEIGHT * semantic
        rest = 1 - LEXICAL_WEIGHT - DENSE_WEIGHT
        if rest > 1e-9:  # ... and the documents' static vectors (same tokens, same weights)
            fused = fused + rest * _to_unit(self.index.static.scores(vector))
        return fused

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
            words = self.index.vocabulary
            # Method families, then leaf areas, then granularities: the order the ranker was tuned with.
            groups = [(key, f["values"]) for key, f in words["facets"].items() if f["expand"] and key != "granularity"]
            groups.append(("area", words["areas"]))
            groups += [(key, f["values"]) for key, f in words["facets"].items() if f["expand"] and key == "granularity"]
            names, texts = [], []
            for facet, terms in groups:
                for term, text in terms.items():
                    if facet == "area" and term in parents:
                        continue  # broad areas ("Model", "Data") match everything and say nothing
                    names.append(text.partition(":")[0])
                    texts.append(text)
            self._terms = (
                names,
                (
                    self.encoder.encode(texts)
                    if texts
                    else np.zeros((0, self.encoder.embeddings.shape[1]), dtype=np.float32)
                ),
            )
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
        kinds = [""] * len(scores)
        keep = allowed & (scores > 0)
        if ranker == "hybrid":  # the single-signal rankers stay raw, for comparison (benchmarks/search_quality.py)
            bonus, kinds = self.names.exact(query)
            coverage = self.coverage(query)
            if not bonus.any() and not (coverage >= COVERAGE_FLOOR).any():
                return []  # no good match
            keep = allowed & ((bonus > 0) | ((scores > 0) & (coverage >= PAPER_FLOOR)))
            scores = scores + bonus
        scores = np.where(keep, scores, -np.inf)
        order = np.argsort(-scores, kind="stable")[:k]
        docs = self.index.documents
        return [
            Hit(docs[i].id, docs[i].title, docs[i].year, round(float(scores[i]), 4), tuple(docs[i].areas), kinds[i])
            for i in order
            if np.isfinite(scores[i])
        ]

    def coverage(self, query: str) -> np.ndarray:
        """Per paper, the share of the query's word weight (idf of each distinct stemmed word) its text holds."""
        import numpy as np

        from kb.search.lexical import tokenize

        bm25 = self.index.bm25
        out = np.zeros(bm25.size, dtype=np.float64)
        weights = {term: bm25.idf(term) for term in dict.fromkeys(tokenize(query))}
        total = sum(weights.values())
        if total <= 0:
            return out
        for term, weight in weights.items():
            for doc, _ in bm25.postings.get(term, ()):
                out[doc] += weight
        return out / total

    @cached_property
    def names(self) -> Names:
        return Names(self.index.documents)

    def allowed(self, filters: Filters) -> np.ndarray:
        import numpy as np

        docs = self.index.documents
        mask = np.ones(len(docs), dtype=bool)
        if filters.area is not None:
            area = self._area(filters.area)
            mask &= [any(a == area or area in self.index.area_ancestors.get(a, []) for a in d.areas) for d in docs]
        if filters.years is not None:
            low, high = filters.years
            mask &= [(low is None or low <= d.year) and (high is None or d.year <= high) for d in docs]
        for key, typed in filters.facets.items():
            value = self.facet_value(key, typed)
            mask &= [value in d.facets.get(key, ()) for d in docs]
        return mask

    def _area(self, value: str) -> str:
        areas = self.index.vocabulary["areas"]
        if value in areas:
            return value
        by_name = {text.partition(":")[0].casefold(): term for term, text in areas.items()}
        if value.casefold() in by_name:
            return str(by_name[value.casefold()])
        raise KbError(f"unknown area '{value}'{_hint(value, areas)}; one of: {', '.join(areas)}")

    def facet_value(self, key: str, typed: str) -> str:
        """A facet value as stored, from an id, a name or an alias in any case."""
        facets = self.index.vocabulary["facets"]
        if key not in facets:
            raise KbError(f"unknown facet '{key}'{_hint(key, facets)}; one of: {', '.join(facets)}")
        facet = facets[key]
        value = facet["spellings"].get(typed.casefold())
        if value is None:
            shown = list(facet["values"])
            choices = f"; one of: {', '.join(shown)}" if len(shown) <= 40 else ""
            raise KbError(f"unknown {facet['label'].casefold()} '{typed}'{_hint(typed, shown)}{choices}")
        return str(value)


def normal(text: str) -> str:
    """Case, accents and punctuation ignored: 'Grad-CAM' -> 'grad cam', 'Hervé' -> 'herve'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.category(c).startswith("M"))
    return " ".join(_NON_WORD.split(plain.lower())).strip()


_NON_WORD = re.compile(r"[\W_]+")
_ARXIV_PREFIX = re.compile(r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/|^arxiv:", re.IGNORECASE)
_VERSION = re.compile(r"(?:v\d+)?(?:\.pdf)?$")
_PARENTHESISED = re.compile(r"\(([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)\)")


def id_of(query: str) -> str:
    """The paper id a query may name: 'arXiv:2311.16922v2' and arxiv.org links give '2311.16922'."""
    return _VERSION.sub("", _ARXIV_PREFIX.sub("", query.strip()), count=1) if query.strip() else ""


def initials(title: str) -> set[str]:
    """Acronyms a title spells: the initials of every run of ACRONYM_MIN to 8 consecutive capitalised words
    (lowercase words are skipped: "Visual Contrastive Decoding", "via Claim Decomposition" is not "VCD")."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.category(c).startswith("M"))
    letters = "".join(w[0].lower() for w in _NON_WORD.split(plain) if w and w[0].isupper())
    return {letters[i:j] for i in range(len(letters)) for j in range(i + ACRONYM_MIN, min(len(letters), i + 8) + 1)}


def defined_acronyms(text: str) -> list[str]:
    """Acronyms a text defines, "Visual Contrastive Decoding (VCD)": the capitals in the parentheses are the
    initials, in order, of some of the words just before them, the last capital that of the last word."""
    out: dict[str, None] = {}
    for match in _PARENTHESISED.finditer(text):
        capitals = [c.lower() for c in match.group(1) if c.isupper()]
        if len(capitals) < 2:
            continue
        before = normal(text[max(0, match.start() - 160) : match.start()]).split()[-8:]
        heads = [w[0] for w in before]
        if not heads or heads[-1] != capitals[-1]:
            continue
        position = len(heads) - 1
        for letter in reversed(capitals[:-1]):
            position -= 1
            while position >= 0 and heads[position] != letter:
                position -= 1
            if position < 0:
                break
        else:
            out[normal(match.group(1)).replace(" ", "")] = None
    return list(out)


class Names:
    """What a query can name exactly, per document: id, titles, short name, acronyms, authors."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.documents = list(documents)
        self.titles = [[normal(t) for t in (d.title, *d.aliases)] for d in self.documents]
        self.heads = [
            {
                normal(t.split(":")[0]).replace(" ", "")
                for t in (d.title, *d.aliases)
                if ":" in t and len(t.split(":")[0].split()) <= 6
            }
            for d in self.documents
        ]
        self.acronyms = [set().union(*(initials(t) for t in (d.title, *d.aliases))) for d in self.documents]
        self.defined = [set(defined_acronyms(d.text)) for d in self.documents]
        self.authors = [[normal(a).split() for a in d.authors] for d in self.documents]

    def exact(self, query: str) -> tuple[np.ndarray, list[str]]:
        """The exact-match bonus of every document (0 for none) and the kind of each match."""
        import numpy as np

        n = len(self.documents)
        bonus = np.zeros(n, dtype=np.float32)
        kinds = [""] * n
        wanted = normal(query)
        if not wanted:
            return bonus, kinds
        compact = wanted.replace(" ", "")
        words = wanted.split()
        paper_id = id_of(query)

        def give(kind: str, hits: list[int], capped: bool = True) -> None:
            if capped and len(hits) > EXACT_AT_MOST:
                return
            for i in hits:
                if EXACT[kind] > bonus[i]:
                    bonus[i], kinds[i] = EXACT[kind], kind

        give(
            "arXiv id",
            [i for i, d in enumerate(self.documents) if d.id == paper_id or d.id == query.strip().lower()],
            capped=False,
        )
        give("title", [i for i in range(n) if wanted in self.titles[i] or compact in self.heads[i]])
        if len(words) == 1 and len(compact) >= ACRONYM_MIN:
            give("acronym", [i for i in range(n) if compact in self.acronyms[i]])
        if len(words) == 1:
            give("defined acronym", [i for i in range(n) if compact in self.defined[i]])
        if len(words) >= 3:
            phrase = f" {wanted} "
            give("title words", [i for i in range(n) if any(phrase in f" {t} " for t in self.titles[i])])
        query_words = set(words)
        give(
            "author",
            [
                i
                for i in range(n)
                if any(query_words <= set(name) and name[-1] in query_words for name in self.authors[i])
            ],
            capped=False,
        )
        return bonus, kinds


def _hint(value: str, choices: object) -> str:
    from kb.facets import (
        did_you_mean,  # pydantic is not needed on the happy path of a cold query
    )

    return did_you_mean(value, choices)


def _to_unit(scores: np.ndarray, around_median: bool = True) -> np.ndarray:
    """Best document 1; the rest relative to it. Cosines of unrelated texts are not zero, so for them
    the median document is moved to 0 (and those below it clipped)."""
    import numpy as np

    found = np.isfinite(scores)  # an approximate vector index leaves documents beyond its candidates at -inf
    if not found.any():
        return np.zeros_like(scores)
    low = float(np.median(scores[found])) if around_median else 0.0
    high = float(scores[found].max())
    if high <= low:
        return np.zeros_like(scores)
    return np.where(found, np.clip((scores - low) / (high - low), 0, None), 0).astype(scores.dtype)
