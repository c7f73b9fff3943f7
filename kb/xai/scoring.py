"""The explained token's score over many variants of one example, run in chunks under the adapter's memory bound.

Every method that perturbs (occlusion, RISE, MM-SHAP, knockout, causal tracing, the region search) and the
deletion / insertion metric go through here, so no method ever builds all its variants at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from kb.xai.adapters import Adapter, Inputs

KINDS = ("probability", "logit", "log_probability")


def spans(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(total, start + size)


def read(logits: torch.Tensor, target: int, kind: str) -> torch.Tensor:
    logits = logits.float()
    if kind == "probability":
        return logits.softmax(-1)[:, target]
    if kind == "log_probability":
        return logits.log_softmax(-1)[:, target]
    return logits[:, target]


def over_chunks(
    adapter: Adapter, inputs: Inputs, total: int, run: Callable[[int, int], torch.Tensor], *, grad: bool = False
) -> torch.Tensor:
    """Concatenates run(start, stop) over chunks of rows sized by the memory bound; results come back on the CPU."""
    size = adapter.rows_per_chunk(inputs, grad=grad)
    parts = []
    for start, stop in spans(total, size):
        parts.append(run(start, stop).detach().float().cpu())
        for report in _reporters:
            report(stop, total)
    return torch.cat(parts)


def target_scores(
    adapter: Adapter,
    inputs: Inputs,
    target: int,
    total: int,
    masks: Callable[[int, int], tuple[torch.Tensor | None, torch.Tensor | None]],
    *,
    kind: str = "probability",
    fill: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """The target's score for `total` variants; masks(start, stop) gives their (keep_image, keep_text) rows."""

    def run(start: int, stop: int) -> torch.Tensor:
        keep_image, keep_text = masks(start, stop)
        with torch.no_grad():
            return read(adapter.logits(adapter.perturb(inputs, keep_image, keep_text, fill=fill)), target, kind)

    return over_chunks(adapter, inputs, total, run)


def scores_for(
    adapter: Adapter,
    inputs: Inputs,
    target: int,
    *,
    keep_image: torch.Tensor | None = None,
    keep_text: torch.Tensor | None = None,
    kind: str = "probability",
    fill: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """target_scores for masks given whole (they are small: one flag per cell or word)."""
    total = (keep_image if keep_image is not None else keep_text).shape[0]

    def masks(start: int, stop: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        return (
            keep_image[start:stop] if keep_image is not None else None,
            keep_text[start:stop] if keep_text is not None else None,
        )

    return target_scores(adapter, inputs, target, total, masks, kind=kind, fill=fill)


def score(adapter: Adapter, inputs: Inputs, target: int, kind: str = "probability") -> float:
    with torch.no_grad():
        return float(read(adapter.logits(inputs), target, kind)[0])


_reporters: list[Callable[[int, int], None]] = []


@contextmanager
def reporting(callback: Callable[[int, int], None]) -> Iterator[None]:
    """Within the block, every chunked run reports (rows done, rows in all) after each chunk."""
    _reporters.append(callback)
    try:
        yield
    finally:
        _reporters.remove(callback)
