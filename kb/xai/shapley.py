"""MM-SHAP (Parcalabescu & Frank, arXiv 2212.08158): Shapley values over image regions and text tokens.

Each text token and each image region is a player; a coalition keeps its players and removes the rest
(cells filled, tokens masked). Values are estimated by sampling permutations; the modality shares are the
summed absolute values per modality, the paper's T-SHAP and V-SHAP. As in the paper, the players are
balanced: the image is cut into as many regions as there are text tokens (`balanced=False` makes every
grid cell a player, for a finer map). Coalitions are generated chunk by chunk, never all at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, resolve_target
from kb.xai.scoring import target_scores


def regions(rows: int, cols: int, count: int) -> torch.Tensor:
    """(rows * cols,) region index of each cell: about `count` rectangular regions tiling the grid."""
    count = max(1, min(count, rows * cols))
    region_rows = max(1, min(rows, round(math.sqrt(count * rows / cols))))
    region_cols = max(1, min(cols, round(count / region_rows)))
    r = torch.arange(rows)[:, None] * region_rows // rows
    c = torch.arange(cols)[None, :] * region_cols // cols
    return (r * region_cols + c).reshape(-1)


@dataclass
class MMSHAP:
    permutations: int = 24
    seed: int = 0
    balanced: bool = True
    name: str = "mm_shap"
    paper_id: str = "2212.08158"
    _generator: torch.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._generator = torch.Generator().manual_seed(self.seed)

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        text_positions = adapter.text_positions(inputs).cpu()
        n_text = len(text_positions)
        group = regions(rows, cols, n_text) if self.balanced and n_text else torch.arange(rows * cols)
        n_image = int(group.max()) + 1
        players = n_image + n_text
        orders = torch.stack([torch.randperm(players, generator=self._generator) for _ in range(self.permutations)])
        ranks = orders.argsort(1)
        per_order = players + 1  # coalition k of a permutation holds its first k players

        def masks(start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
            index = torch.arange(start, stop)
            keep = ranks[index // per_order] < (index % per_order)[:, None]
            return keep[:, :n_image][:, group], keep[:, n_image:]

        values_of = target_scores(adapter, inputs, target, self.permutations * per_order, masks, kind="logit")
        # The logit of the answer, as in MM-SHAP: probabilities saturate and hide contributions.
        gains = values_of.view(self.permutations, per_order).diff(dim=1)  # gain of the player added at each step
        values = torch.zeros(players)
        values.index_add_(0, orders.reshape(-1), gains.reshape(-1))
        values /= self.permutations
        image_players, text = values[:n_image], values[n_image:]
        sizes = torch.bincount(group, minlength=n_image).float()
        image = (image_players / sizes)[group]  # a region's value, spread evenly over its cells
        total = float(image_players.abs().sum() + text.abs().sum())
        share = float(image_players.abs().sum()) / total if total > 0 else 0.5
        return Explanation(
            self.name,
            target,
            image.reshape(rows, cols),
            text,
            text_positions,
            extras={
                "image_share": share,
                "text_share": 1 - share,
                "image_players": n_image,
                "total": float(values.sum()),
            },
        )
