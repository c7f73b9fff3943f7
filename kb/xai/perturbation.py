"""Perturbation methods: occlusion (Zeiler & Fergus, arXiv 1311.2901) and RISE (arXiv 1806.07421).

Both remove parts of the input through the adapter (image patches filled, text tokens masked) and
watch the probability of the explained token.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, resolve_target


def probabilities(adapter: Adapter, batch: Inputs, target: int, chunk: int = 256) -> torch.Tensor:
    """p(target) for every row of a perturbed batch, run in chunks to bound memory."""
    n = batch["input_ids"].shape[0]
    per_row = batch["pixel_values"].shape[0] // n
    out = []
    with torch.no_grad():
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            part = {k: (v[start * per_row : stop * per_row] if k == "pixel_values" else v[start:stop]) for k, v in batch.items()}
            out.append(adapter.logits(part).softmax(-1)[:, target])
    return torch.cat(out)


@dataclass
class Occlusion:
    """Drop in p(target) when one image patch (or one text token) at a time is removed."""

    name: str = "occlusion"
    paper_id: str = "1311.2901"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        n_image, text_positions = rows * cols, adapter.text_positions(inputs)
        base = probabilities(adapter, inputs, target)[0]
        image_drop = base - probabilities(adapter, adapter.perturb(inputs, keep_image=~torch.eye(n_image, dtype=torch.bool)), target)
        n_text = len(text_positions)
        text_drop = base - probabilities(adapter, adapter.perturb(inputs, keep_text=~torch.eye(n_text, dtype=torch.bool)), target)
        return Explanation(self.name, target, image_drop.reshape(rows, cols), text_drop, text_positions)


@dataclass
class RISE:
    """Randomised input sampling: the p(target)-weighted average of random keep-masks over image patches."""

    masks: int = 500
    keep: float = 0.5
    seed: int = 0
    name: str = "rise"
    paper_id: str = "1806.07421"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        generator = torch.Generator().manual_seed(self.seed)
        # The grid is already coarse (one cell per token), so masks are drawn per token, not upsampled.
        keep = torch.rand(self.masks, rows * cols, generator=generator) < self.keep
        weights = probabilities(adapter, adapter.perturb(inputs, keep_image=keep), target)
        saliency = (weights[:, None] * keep.float()).sum(0) / (self.masks * self.keep)
        return Explanation(self.name, target, saliency.reshape(rows, cols), None)
