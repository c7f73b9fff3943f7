"""Faithfulness metrics against known evidence, and the rank correlations of the sanity checks.

Localisation: the pointing game (ties share the hit), relevance mass (positive relevance on the evidence),
an offset-invariant localisation (the evidence cell's rank among the cells, as an AUC: unchanged by adding
a constant or scaling the map, unlike relevance mass), and relevance rank accuracy (Arras et al.'s share
of the ground truth among the top-K scores, here over image cells and text tokens together, K = 2: the
evidence cell and the cell's name). Deletion / insertion remove cells with a fill given by the caller.
"""

from __future__ import annotations

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.perturbation import probabilities


def pointing_game(image: torch.Tensor, cell: int) -> float:
    """1 when the evidence cell alone scores highest; 1/k when it ties with k - 1 others."""
    flat = image.reshape(-1)
    top = flat == flat.max()
    return float(top[cell]) / float(top.sum())


def relevance_mass(image: torch.Tensor, cell: int) -> float:
    """The evidence cell's share of the positive image relevance (0 when nothing is positive)."""
    positive = image.reshape(-1).clamp(min=0)
    total = float(positive.sum())
    return float(positive[cell]) / total if total > 0 else 0.0


def localisation_auc(image: torch.Tensor, cell: int) -> float:
    """Share of other cells scoring below the evidence cell (ties count half): invariant to offset and scale."""
    flat = image.reshape(-1)
    others = torch.cat([flat[:cell], flat[cell + 1 :]])
    value = flat[cell]
    return float((others < value).float().mean() + 0.5 * (others == value).float().mean())


def relevance_rank_accuracy(image: torch.Tensor, text: torch.Tensor, cell: int, text_index: int) -> float:
    """Share of the two evidence tokens (the cell, the cell's name) among the two highest scores of image and text
    together."""
    joint = torch.cat([image.reshape(-1), text.reshape(-1)])
    truth = {cell, image.numel() + text_index}
    top = set(joint.argsort(descending=True, stable=True)[: len(truth)].tolist())
    return len(top & truth) / len(truth)


def _auc(curve: torch.Tensor) -> float:
    """Area under p(target) against the fraction of cells changed, trapezoid rule over [0, 1]."""
    return float(torch.trapezoid(curve, dx=1.0 / (len(curve) - 1)))


def deletion_insertion(
    adapter: Adapter, inputs: Inputs, image: torch.Tensor, target: int, fill: float | torch.Tensor | None = None
) -> tuple[float, float]:
    """Deletion AUC (remove the most relevant cells first; lower is better) and insertion AUC (higher is better).

    Ties are broken by a fixed random order, not by position: a constant map must not score as "top-left first".
    """
    flat = image.reshape(-1).float()
    jitter = torch.rand(flat.shape, generator=torch.Generator().manual_seed(0)) * 1e-9 * (float(flat.abs().max()) + 1)
    order = (flat + jitter).argsort(descending=True)
    n = len(order)
    rank = torch.empty(n, dtype=torch.long)
    rank[order] = torch.arange(n)
    top_k = rank[None, :] < torch.arange(n + 1)[:, None]  # row k: the k most relevant cells
    deletion = probabilities(adapter, inputs, target, keep_image=~top_k, fill=fill)
    insertion = probabilities(adapter, inputs, target, keep_image=top_k, fill=fill)
    return _auc(deletion), _auc(insertion)


def spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Rank correlation of two score maps (average ranks for ties); 0 when either is constant."""
    x, y = a.reshape(-1).double(), b.reshape(-1).double()
    if float(x.std()) == 0 or float(y.std()) == 0:
        return 0.0
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / (rx.norm() * ry.norm()))


def _ranks(values: torch.Tensor) -> torch.Tensor:
    order = values.argsort()
    ranks = torch.empty_like(values)
    ranks[order] = torch.arange(len(values), dtype=values.dtype)
    for value in values.unique():
        tied = values == value
        if int(tied.sum()) > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks
