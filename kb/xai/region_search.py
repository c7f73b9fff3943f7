"""A greedy region search scoring sufficiency and necessity, in the manner of EAGLE (Chen et al., arXiv 2509.22496).

The image is cut into regions (grid cells; on large grids, about `regions` rectangles, EAGLE's
sparsification). Regions are added one at a time, each time the one that most raises the objective
sufficiency + necessity of the chosen set S: p(target | only S kept) (the insight score) plus
p(target) - p(target | S removed) (the necessity score). A region's score is its place in that order
(the first chosen scores highest), as EAGLE's ordered subsets are read. The search is black-box: it
needs only forward passes, which run in memory-bounded chunks. The modality analysis reports the target's
probability with the whole image removed (what the language prior alone gives) next to the full one.
Differences from the paper: rectangles instead of superpixels, and an unweighted sum of the two scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, resolve_target
from kb.xai.scoring import score, scores_for
from kb.xai.shapley import regions as rectangles


@dataclass
class RegionSearch:
    regions: int = 16
    name: str = "region_search"
    paper_id: str = "2509.22496"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        group = torch.arange(rows * cols) if rows * cols <= self.regions else rectangles(rows, cols, self.regions)
        n = int(group.max()) + 1
        full = score(adapter, inputs, target)
        chosen = torch.zeros(n, dtype=torch.bool)
        order: list[int] = []
        curve: list[tuple[float, float]] = []
        for _ in range(n):
            candidates = (~chosen).nonzero().squeeze(1)
            sets = chosen.expand(len(candidates), n).clone()
            sets[torch.arange(len(candidates)), candidates] = True
            keep_cells = sets[:, group]
            insight = scores_for(adapter, inputs, target, keep_image=keep_cells)
            necessity = full - scores_for(adapter, inputs, target, keep_image=~keep_cells)
            best = int((insight + necessity).argmax())
            chosen[candidates[best]] = True
            order.append(int(candidates[best]))
            curve.append((float(insight[best]), float(necessity[best])))
        rank = torch.empty(n)
        rank[torch.tensor(order)] = torch.arange(n, 0, -1, dtype=torch.float32) / n
        prior = float(scores_for(adapter, inputs, target, keep_image=torch.zeros(1, rows * cols, dtype=torch.bool))[0])
        return Explanation(
            self.name,
            target,
            rank[group].reshape(rows, cols),
            None,
            extras={
                "order": order,
                "insight": [c[0] for c in curve],
                "necessity": [c[1] for c in curve],
                "full_probability": full,
                "language_prior_probability": prior,
            },
        )
