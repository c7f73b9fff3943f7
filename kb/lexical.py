"""Lexical (BM25) ranking with bm25s: English stop words removed, Snowball-stemmed terms."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # stemming improves recall but search still works without PyStemmer
        return None


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)  # type: ignore[no-any-return]


class Lexical:
    """BM25 over a fixed list of documents; `scores` gives one score per document, in order."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        self.size = len(texts)
        self.retriever = bm25s.BM25()
        tokens = tokenize(texts)
        if self.size and any(tokens):
            self.retriever.index(tokens, show_progress=False)
        else:
            self.retriever = None

    def scores(self, query: str) -> np.ndarray:
        import numpy as np

        terms = tokenize([query])[0]
        if self.retriever is None or not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(terms), dtype=np.float32)
