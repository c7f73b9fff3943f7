"""Lexical ranking: Okapi BM25 (Lucene's idf) over Snowball-stemmed words without English stop words.

Written on numpy rather than taken from bm25s because importing bm25s (which imports scipy) costs about
0.3 s, a fifth of the budget of a cold `kb search`; for a few thousand documents postings in a dict are
as fast as a sparse matrix.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

K1 = 1.5
B = 0.75
WORD = re.compile(r"\w\w+", re.UNICODE)
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # stemming improves recall, but search still works without PyStemmer
        return None


def tokenize(text: str) -> list[str]:
    words = [w for w in WORD.findall(text.casefold()) if w not in STOP_WORDS]
    stemmer = _stemmer()
    return list(stemmer.stemWords(words)) if stemmer is not None else words


class Lexical:
    """BM25 over a fixed list of documents; `scores` gives one score per document, in order."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.size = len(texts)
        self.postings: dict[str, list[tuple[int, int]]] = {}
        lengths = []
        for doc, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths.append(sum(counts.values()))
            for term, count in counts.items():
                self.postings.setdefault(term, []).append((doc, count))
        average = (sum(lengths) / len(lengths)) if lengths else 0.0
        self.norm = [K1 * (1 - B + B * (n / average)) if average else K1 for n in lengths]

    def to_bytes(self) -> bytes:
        """The postings as one JSON document, so a cold query loads them instead of re-tokenising every text."""
        data = {
            "size": self.size,
            "norm": self.norm,
            "postings": {t: [x for pair in p for x in pair] for t, p in self.postings.items()},
        }
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Lexical:
        data = json.loads(raw)
        lexical = cls.__new__(cls)
        lexical.size = int(data["size"])
        lexical.norm = [float(x) for x in data["norm"]]
        lexical.postings = {t: list(zip(flat[0::2], flat[1::2], strict=True)) for t, flat in data["postings"].items()}
        return lexical

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        import numpy as np

        out = np.zeros(self.size, dtype=np.float32)
        for term in tokenize(query):  # a repeated query word counts again, as in BM25's query sum
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf(term)
            for doc, count in postings:
                out[doc] += idf * count * (K1 + 1) / (count + self.norm[doc])
        return out
