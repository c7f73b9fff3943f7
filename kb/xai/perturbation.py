"""Perturbation methods: occlusion (Zeiler & Fergus, arXiv 1311.2901) and RISE (arXiv 1806.07421).

Both remove parts of the input through the adapter (grid cells filled, text tokens masked) and watch the
probability of the explained token; variants run in memory-bounded chunks (`kb.xai.scoring`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, resolve_target
from kb.xai.scoring import score, scores_for, target_scores


def probabilities(
    adapter: Adapter,
    inputs: Inputs,
    target: int,
    *,
    keep_image: torch.Tensor | None = None,
    keep_text: torch.Tensor | None = None,
    fill: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """p(target) for each variant of one example (the example itself when no mask is given), on the CPU."""
    if keep_image is None and keep_text is None:
        return torch.tensor([score(adapter, inputs, target)])
    return scores_for(adapter, inputs, target, keep_image=keep_image, keep_text=keep_text, fill=fill)


@dataclass
class Occlusion:
    """Drop in p(target) when one grid cell (or one text token) at a time is removed."""

    name: str = "occlusion"
    paper_id: str = "1311.2901"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        n_image, text_positions = rows * cols, adapter.text_positions(inputs).cpu()
        base = score(adapter, inputs, target)

        def one_cell(start: int, stop: int) -> tuple[torch.Tensor, None]:
            keep = torch.ones(stop - start, n_image, dtype=torch.bool)
            keep[torch.arange(stop - start), torch.arange(start, stop)] = False
            return keep, None

        image_drop = base - target_scores(adapter, inputs, target, n_image, one_cell)
        n_text = len(text_positions)
        text_drop = (
            base - probabilities(adapter, inputs, target, keep_text=~torch.eye(n_text, dtype=torch.bool))
            if n_text
            else torch.zeros(0)
        )
        return Explanation(self.name, target, image_drop.reshape(rows, cols), text_drop, text_positions)


@dataclass
class RISE:
    """Randomised input sampling: the p(target)-weighted average of random keep-masks over grid cells.

    The generator lives with the instance and advances from example to example: two instances with
    different seeds (a method and its sanity-check control) never share masks.
    """

    masks: int = 500
    keep: float = 0.5
    seed: int = 0
    name: str = "rise"
    paper_id: str = "1806.07421"
    _generator: torch.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._generator = torch.Generator().manual_seed(self.seed)

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        # One flag per token: the token grid is already coarse (a cell per token), so masks are not upsampled.
        keep = torch.rand(self.masks, rows * cols, generator=self._generator) < self.keep
        weights = probabilities(adapter, inputs, target, keep_image=keep)
        saliency = (weights[:, None] * keep.float()).sum(0) / (self.masks * self.keep)
        return Explanation(self.name, target, saliency.reshape(rows, cols), None)
