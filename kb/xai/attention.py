"""Attention as explanation: raw attention and attention rollout (Abnar & Zuidema, arXiv 2005.00928).

Both read the decoder's attention from the answer position; rollout also follows attention through
the layers, mixing in the residual connection as an identity matrix. Attention is read from the eager
implementation (the only one that materialises the weights) and accumulated in float32 on the model's device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, from_sequence, resolve_target


def attention_maps(adapter: Adapter, inputs: Inputs) -> list[torch.Tensor]:
    """Per decoder layer, the head-averaged attention (S, S) of the single example, in float32."""
    with adapter.eager_attention(), torch.no_grad():
        output = adapter.run(inputs, output_attentions=True)
    return [layer[0].float().mean(0) for layer in output.attentions]


@dataclass
class RawAttention:
    """Attention weights from the answer position in one decoder layer, averaged over heads."""

    layer: int = -1
    name: str = "raw_attention"
    paper_id: str = "2005.00928"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        return from_sequence(self.name, adapter, inputs, target, attention_maps(adapter, inputs)[self.layer][-1])


def rollout(maps: list[torch.Tensor], residual: float = 0.5) -> torch.Tensor:
    """Attention rollout: the product of residual-mixed, row-normalised attention matrices, first layer first."""
    length = maps[0].shape[-1]
    eye = torch.eye(length, device=maps[0].device, dtype=maps[0].dtype)
    flow = eye
    for attention in maps:
        mixed = residual * eye + (1 - residual) * attention
        mixed = mixed / mixed.sum(-1, keepdim=True)
        flow = mixed @ flow
    return flow


@dataclass
class AttentionRollout:
    """How much of the answer position's representation flows from each input token through all layers."""

    residual: float = 0.5
    name: str = "attention_rollout"
    paper_id: str = "2005.00928"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        flow = rollout(attention_maps(adapter, inputs), self.residual)
        return from_sequence(self.name, adapter, inputs, target, flow[-1])
