"""Faithfulness metrics against known evidence: pointing game, relevance mass, deletion / insertion AUC,
and the rank correlation used by the model-randomisation sanity check."""

from __future__ import annotations

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.perturbation import probabilities


def pointing_game(image: torch.Tensor, cell: int) -> float:
    """1 when the highest-scoring patch is the evidence patch."""
    return float(int(image.reshape(-1).argmax()) == cell)


def relevance_mass(image: torch.Tensor, cell: int) -> float:
    """The evidence patch's share of the positive image relevance (0 when nothing is positive)."""
    positive = image.reshape(-1).clamp(min=0)
    total = float(positive.sum())
    return float(positive[cell]) / total if total > 0 else 0.0


def _auc(curve: torch.Tensor) -> float:
    """Area under p(target) against the fraction of patches changed, trapezoid rule over [0, 1]."""
    return float(torch.trapezoid(curve, dx=1.0 / (len(curve) - 1)))


def deletion_insertion(adapter: Adapter, inputs: Inputs, image: torch.Tensor, target: int) -> tuple[float, float]:
    """Deletion AUC (remove the most relevant patches first; lower is better) and insertion AUC (higher is better)."""
    order = image.reshape(-1).argsort(descending=True)
    n = len(order)
    rank = torch.empty(n, dtype=torch.long)
    rank[order] = torch.arange(n)
    steps = torch.arange(n + 1)[:, None]
    top_k = rank[None, :] < steps  # row k: the k most relevant patches
    deletion = probabilities(adapter, adapter.perturb(inputs, keep_image=~top_k), target)
    insertion = probabilities(adapter, adapter.perturb(inputs, keep_image=top_k), target)
    return _auc(deletion), _auc(insertion)


def spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Rank correlation of two score maps (ties broken by position); 0 when either is constant."""
    ra = a.reshape(-1).argsort().argsort().float()
    rb = b.reshape(-1).argsort().argsort().float()
    if float(a.reshape(-1).std()) == 0 or float(b.reshape(-1).std()) == 0:
        return 0.0
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / (ra.norm() * rb.norm()))
