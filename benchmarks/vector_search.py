"""Exact versus approximate nearest-neighbour search with faiss, at 10k, 100k and 1M vectors.

What `kb.search.vectors` chooses between: an exact inner-product index (IndexFlatIP) and an HNSW graph
(IndexHNSWFlat, inner product); an IVF index is measured beside them for reference. Vectors are 384-wide and
unit length like the project's: real static-model vectors of the bulk arXiv file when it is beside the
repository, repeated with small noise to reach the larger sizes (random Gaussian vectors would make every
approximate index look worse than on real text), else random ones.

For each size: build time, the median time of one query (k=10) over 200 queries, and the approximate
indexes' recall@10 against the exact answer. Figures from this project's machine are in site/search.md.

    python benchmarks/vector_search.py [--sizes 10000 100000 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import faiss
import numpy as np

HERE = Path(__file__).resolve().parent
BULK = HERE.parent.parent / "shared" / "corpus" / "arxiv-llm-papers.jsonl.gz"
DIMS = 384
K = 10
QUERIES = 200


def base_vectors() -> np.ndarray:
    if not BULK.is_file():
        return np.random.default_rng(0).standard_normal((28_000, DIMS)).astype(np.float32)
    from kb.artefacts import Inputs
    from kb.project import Project
    from kb.search.bulk import read_bulk
    from kb.search.store import ensure_index

    encoder = ensure_index(Inputs(Project(HERE.parent))).encoder
    texts = [f"{t}. {a}" for _, t, a in read_bulk(BULK)]
    return np.vstack([encoder.encode(texts[i : i + 4096]) for i in range(0, len(texts), 4096)])


def grow(base: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    reps = -(-size // len(base))
    out = np.vstack(
        [base + (rng.standard_normal(base.shape).astype(np.float32) * 0.05 if r else 0) for r in range(reps)]
    )[:size]
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-12
    return np.ascontiguousarray(out, dtype=np.float32)


def timed_queries(index: faiss.Index, queries: np.ndarray) -> tuple[float, np.ndarray]:
    times, found = [], []
    for q in queries:
        start = time.perf_counter()
        _, ids = index.search(q[None, :], K)
        times.append((time.perf_counter() - start) * 1000)
        found.append(ids[0])
    return statistics.median(times), np.array(found)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def measure(vectors: np.ndarray, queries: np.ndarray) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    start = time.perf_counter()
    exact = faiss.IndexFlatIP(DIMS)
    exact.add(vectors)
    build = time.perf_counter() - start
    ms, truth = timed_queries(exact, queries)
    out["exact"] = {"build_s": round(build, 2), "query_ms": round(ms, 3), "recall@10": 1.0}
    from kb.search.vectors import HNSW_BUILD_DEPTH, HNSW_NEIGHBOURS, HNSW_SEARCH_DEPTH

    start = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(DIMS, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_BUILD_DEPTH
    hnsw.add(vectors)
    build = time.perf_counter() - start
    hnsw.hnsw.efSearch = HNSW_SEARCH_DEPTH
    ms, found = timed_queries(hnsw, queries)
    out["hnsw"] = {"build_s": round(build, 2), "query_ms": round(ms, 3), "recall@10": round(recall(found, truth), 3)}
    lists = max(16, int(4 * np.sqrt(len(vectors))))
    start = time.perf_counter()
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIMS), DIMS, lists, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors[np.random.default_rng(1).choice(len(vectors), min(len(vectors), lists * 40), replace=False)])
    ivf.add(vectors)
    build = time.perf_counter() - start
    ivf.nprobe = max(1, lists // 32)
    ms, found = timed_queries(ivf, queries)
    out["ivf"] = {
        "build_s": round(build, 2),
        "query_ms": round(ms, 3),
        "recall@10": round(recall(found, truth), 3),
        "lists": lists,
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)  # as kb.search.vectors answers single queries
    rng = np.random.default_rng(0)
    base = base_vectors()
    results = {}
    for size in args.sizes:
        vectors = grow(base, size, rng)
        queries = grow(base[rng.choice(len(base), QUERIES, replace=False)], QUERIES, rng)
        results[str(size)] = measure(vectors, queries)
        if not args.json:
            print(size, json.dumps(results[str(size)]), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
