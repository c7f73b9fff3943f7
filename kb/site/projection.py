"""The 2-D map of all papers: their sentence-transformer vectors projected to the plane with t-SNE
(scikit-learn; PCA to 30 dimensions first), kept as the `map` artefact (`kb.artefacts`).

A rebuild reuses the map when the vectors are the same. When only a few papers changed or arrived
(`UPDATE_AT_MOST` of them), they are placed among their `NEIGHBOURS` nearest unchanged papers (the mean of
their positions, weighted by similarity), removed papers leave, and the rest stay put, so a one-record edit
costs milliseconds and the map a reader knows does not jump; past that it is projected again.
It runs in a child process, on one thread: with two cores shared, more threads made it several times slower.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import TYPE_CHECKING

import numpy as np

from kb import artefacts

if TYPE_CHECKING:
    from kb.artefacts import Inputs
    from kb.search.store import SearchIndex

KIND = "map"
FORMAT = 1
UPDATE_AT_MOST = 0.05  # share of the papers that may be placed by their neighbours instead of projecting again
NEIGHBOURS = 5
PERPLEXITY = 30.0
LANDMARKS = 1000  # above this many papers, t-SNE places a spread sample and the rest join their nearest


def _hash(vector: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(vector, dtype=np.float32).tobytes()).hexdigest()[:16]


def positions(inputs: Inputs, index: SearchIndex) -> dict[str, tuple[float, float]]:
    """Each paper's place on the map, in [0, 1] x [0, 1]."""
    ids = index.ids
    if not ids:
        return {}
    vectors = index.dense.vectors()
    hashes = [_hash(v) for v in vectors]
    key = (
        f"{FORMAT}:"
        + hashlib.sha256("".join(f"{i}={h};" for i, h in zip(ids, hashes, strict=True)).encode()).hexdigest()
    )
    folder = inputs.artefacts.map
    manifest = artefacts.open_artefact(folder, KIND)
    old: dict[str, tuple[str, tuple[float, float]]] = {}
    if manifest is not None:
        try:
            old = {k: (h, (x, y)) for k, h, x, y in json.loads((folder / "positions.json").read_text(encoding="utf-8"))}
        except (OSError, ValueError, TypeError):
            old = {}
        if manifest.key == key and set(old) == set(ids):
            return {k: xy for k, (_, xy) in old.items()}
    kept = [i for i, (pid, h) in enumerate(zip(ids, hashes, strict=True)) if pid in old and old[pid][0] == h]
    kept_set = set(kept)
    changed = [i for i in range(len(ids)) if i not in kept_set]
    if kept and len(changed) <= max(1, UPDATE_AT_MOST * len(ids)):  # removed papers simply leave the map
        points = np.array([old[ids[i]][1] if i in kept_set else (0.0, 0.0) for i in range(len(ids))], dtype=np.float64)
        base = vectors[kept]
        for i in changed:
            similarity = base @ vectors[i]
            nearest = np.argsort(-similarity)[:NEIGHBOURS]
            weights = np.clip(similarity[nearest], 1e-3, None)
            points[i] = (points[[kept[j] for j in nearest]] * weights[:, None]).sum(axis=0) / weights.sum()
    else:
        points = _in_child(vectors)
    out = {pid: (round(float(x), 5), round(float(y), 5)) for pid, (x, y) in zip(ids, points, strict=True)}
    rows = [[pid, h, *out[pid]] for pid, h in zip(ids, hashes, strict=True)]
    buffer = io.BytesIO(json.dumps(rows, separators=(",", ":")).encode())
    artefacts.write_artefact(folder, KIND, key, inputs.stamp, {"positions.json": buffer.getvalue()})
    return out


def _in_child(vectors: np.ndarray) -> np.ndarray:
    """`project` in a fresh interpreter: scikit-learn and t-SNE's working memory (~130 MiB for 5,000 papers) stay
    out of the build process, whose peak is what a large knowledge base runs into."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(project, vectors).result()


def project(vectors: np.ndarray) -> np.ndarray:
    """t-SNE of the vectors, scaled into the unit square (deterministic: fixed seed, PCA start). Past
    `LANDMARKS` papers (t-SNE took 26 s for 5,000 here), t-SNE lays out an evenly spaced sample of them and
    every other paper is placed among its nearest landmarks, as a changed paper is."""
    n = len(vectors)
    if n > LANDMARKS:
        landmarks = np.linspace(0, n - 1, LANDMARKS).round().astype(int)
        placed = project(vectors[landmarks])
        points = np.zeros((n, 2))
        points[landmarks] = placed
        rest = np.setdiff1d(np.arange(n), landmarks)
        similarity = vectors[rest] @ vectors[landmarks].T
        nearest = np.argsort(-similarity, axis=1)[:, :NEIGHBOURS]
        weights = np.clip(np.take_along_axis(similarity, nearest, axis=1), 1e-3, None)
        points[rest] = (placed[nearest] * weights[:, :, None]).sum(axis=1) / weights.sum(axis=1, keepdims=True)
        # A small fixed scatter, so papers placed among the same landmarks do not sit on one point.
        points[rest] += np.random.default_rng(0).normal(scale=0.004, size=(len(rest), 2))
        return np.clip(points, 0.0, 1.0)
    if n < 4:
        return np.array(
            [
                [0.5 + 0.3 * np.cos(2 * np.pi * i / max(n, 1)), 0.5 + 0.3 * np.sin(2 * np.pi * i / max(n, 1))]
                for i in range(n)
            ]
        )
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # in the child process: with two cores shared, more threads made t-SNE several times slower
    reduced = PCA(min(30, n - 1, vectors.shape[1]), random_state=0).fit_transform(vectors)
    perplexity = min(PERPLEXITY, (n - 1) / 3)
    points = TSNE(
        2,
        perplexity=perplexity,
        init="pca",
        learning_rate="auto",
        max_iter=500 if n <= 2000 else 300,
        random_state=0,
        n_jobs=1,
    ).fit_transform(reduced)
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled: np.ndarray = (points - low) / span
    return scaled
