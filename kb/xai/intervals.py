"""Bootstrap intervals for the benchmark: per model seed over examples, and pooled over seeds and examples.

The pooled interval resamples seeds, then examples within each drawn seed (a two-level bootstrap), so it
widens when seeds disagree instead of treating 3 x 200 examples as 600 independent ones. Paired
comparisons bootstrap the per-example differences of two methods on the same examples the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95


def _bounds(draws: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def per_seed(values: Sequence[float], seed: int) -> list[float]:
    """[mean, low, high] over the examples of one model seed."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    draws = data[rng.integers(0, len(data), (RESAMPLES, len(data)))].mean(1)
    return [float(data.mean()), *_bounds(draws)]


def pooled(groups: Sequence[Sequence[float]], seed: int) -> list[float]:
    """[mean of seed means, low, high] with seeds and then examples resampled."""
    arrays = [np.asarray(g, dtype=float) for g in groups if len(g)]
    rng = np.random.default_rng(seed)
    draws = np.empty(RESAMPLES)
    for i in range(RESAMPLES):
        picked = rng.integers(0, len(arrays), len(arrays))
        draws[i] = np.mean([arrays[j][rng.integers(0, len(arrays[j]), len(arrays[j]))].mean() for j in picked])
    return [float(np.mean([a.mean() for a in arrays])), *_bounds(draws)]


def paired(first: Sequence[Sequence[float]], second: Sequence[Sequence[float]], seed: int) -> dict[str, float]:
    """The mean difference first - second over matched examples, its interval, and the share of draws at or below 0."""
    differences = [np.asarray(a, dtype=float) - np.asarray(b, dtype=float) for a, b in zip(first, second, strict=True)]
    mean, low, high = pooled(differences, seed)
    return {"difference": mean, "low": low, "high": high}
