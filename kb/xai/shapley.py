"""MM-SHAP (Parcalabescu & Frank, arXiv 2212.08158): Shapley values over image patches and text tokens.

Each patch and each text token is a player; a coalition keeps its players and removes the rest (patches
filled, tokens masked). Values are estimated by sampling permutations. The modality shares are the
summed absolute values per modality, the paper's T-SHAP and V-SHAP.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, resolve_target


@dataclass
class MMSHAP:
    permutations: int = 24
    seed: int = 0
    name: str = "mm_shap"
    paper_id: str = "2212.08158"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        n_image = rows * cols
        text_positions = adapter.text_positions(inputs)
        players = n_image + len(text_positions)
        generator = torch.Generator().manual_seed(self.seed)
        orders = torch.stack([torch.randperm(players, generator=generator) for _ in range(self.permutations)])
        # Coalition k of a permutation holds its first k players: players + 1 coalitions per permutation.
        ranks = orders.argsort(1)
        sizes = torch.arange(players + 1)
        keep = ranks[:, None, :] < sizes[None, :, None]  # (P, players+1, players)
        flat = keep.reshape(-1, players)
        logits_of = self._values(adapter, inputs, flat[:, :n_image], flat[:, n_image:], target).view(self.permutations, players + 1)
        gains = logits_of[:, 1:] - logits_of[:, :-1]  # gain of the player added at each step
        values = torch.zeros(players)
        values.index_add_(0, orders.reshape(-1), gains.reshape(-1))
        values /= self.permutations
        image, text = values[:n_image], values[n_image:]
        total = float(image.abs().sum() + text.abs().sum())
        share = float(image.abs().sum()) / total if total > 0 else 0.5
        return Explanation(self.name, target, image.reshape(rows, cols), text, text_positions,
                           extras={"image_share": share, "text_share": 1 - share})

    def _values(self, adapter: Adapter, inputs: Inputs, keep_image: torch.Tensor, keep_text: torch.Tensor, target: int) -> torch.Tensor:
        # The logit of the answer, as in MM-SHAP; probabilities saturate and hide contributions.
        batch = adapter.perturb(inputs, keep_image=keep_image, keep_text=keep_text)
        out = []
        with torch.no_grad():
            for start in range(0, keep_image.shape[0], 256):
                part = {k: v[start : start + 256] for k, v in batch.items()} if "image_grid_thw" not in batch else adapter.perturb(inputs, keep_image[start : start + 256], keep_text[start : start + 256])
                out.append(adapter.logits(part)[:, target])
        return torch.cat(out)
