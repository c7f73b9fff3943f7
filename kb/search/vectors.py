"""Nearest-neighbour search over unit vectors with faiss: exact inner product at the knowledge base's size,
an HNSW graph above `EXACT_UNTIL` vectors.

The crossover was measured with `benchmarks/vector_search.py` on this project's 2-core machine (figures in
site/search.md): exact search answers a query in about 1 ms at 10,000 vectors and grows linearly (109 ms at a
million), HNSW stays under 1 ms at a recall@10 of 0.98-0.99 but costs seconds to minutes to build (9 minutes at
a million), so exact search wins until a few tens of thousands of vectors. The records will not reach that size;
bulk files for discovery (arXiv's full metadata: millions) do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

EXACT_UNTIL = 50_000
HNSW_NEIGHBOURS = 32
HNSW_BUILD_DEPTH = 80
HNSW_SEARCH_DEPTH = 128
CANDIDATES = 1000  # how many best documents an approximate index scores; the rest count as not found
MANY_QUERIES = 64  # from this many queries at once, faiss may use THREADS threads
THREADS = 2


@dataclass
class VectorIndex:
    """A faiss index over unit-length float32 rows, scored by inner product (= cosine)."""

    index: Any

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def exact(self) -> bool:
        import faiss

        return isinstance(self.index, faiss.IndexFlat)

    @classmethod
    def build(cls, vectors: np.ndarray, exact_until: int = EXACT_UNTIL, dimensions: int = 384) -> VectorIndex:
        import faiss
        import numpy as np

        width = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else dimensions
        rows = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, width)
        index: Any
        if len(rows) <= exact_until:
            index = faiss.IndexFlatIP(width)
        else:
            index = faiss.IndexHNSWFlat(width, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_BUILD_DEPTH
            index.hnsw.efSearch = HNSW_SEARCH_DEPTH
        if len(rows):
            index.add(rows)
        return cls(index)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows for each query: (scores, row numbers), best first; -1 pads a short answer."""
        import faiss
        import numpy as np

        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.index.d)
        if self.size == 0 or k < 1:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        # One query is answered fastest on one thread: OpenMP's hand-off costs more than it saves, and on a
        # busy machine its spinning threads cost ~100x (measured: 95 ms instead of 1 ms at 10k vectors).
        faiss.omp_set_num_threads(1 if len(queries) < MANY_QUERIES else THREADS)
        scores, rows = self.index.search(queries, min(k, self.size))
        return scores, rows

    def scores(self, query: np.ndarray) -> np.ndarray:
        """One score per row for a single query. An exact index scores every row; an approximate one its
        CANDIDATES best, and -inf for the rest (they are not among the nearest)."""
        import numpy as np

        out = np.full(self.size, -np.inf, dtype=np.float32)
        scores, rows = self.search(query, self.size if self.exact else CANDIDATES)
        found = rows[0] >= 0
        out[rows[0][found]] = scores[0][found]
        return out

    def vectors(self) -> np.ndarray:
        rows: np.ndarray = self.index.reconstruct_n(0, self.size)
        return rows

    def to_bytes(self) -> bytes:
        import faiss

        return bytes(faiss.serialize_index(self.index).tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> VectorIndex:
        import faiss
        import numpy as np

        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = HNSW_SEARCH_DEPTH
        return cls(index)
