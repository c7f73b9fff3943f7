"""Modality-specific neurons in the style of MINER (arXiv 2410.04819), with the ablation that tests them.

MLP neurons (the inputs of each decoder layer's down projection) are scored by how much more strongly
they fire on image tokens than on text tokens, the top fraction is kept, and switching them off must
hurt the model more than switching off as many random neurons. MINER compares several importance
scores; this is its simplest, the difference of mean absolute activations.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import torch

from kb.xai import hooks
from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, from_sequence, resolve_target


def _down_projections(adapter: Adapter) -> list[torch.nn.Module]:
    return [layer.mlp.down_proj for layer in adapter.decoder_layers]


def neuron_activations(adapter: Adapter, inputs: Inputs) -> list[torch.Tensor]:
    """Per layer, the MLP neuron activations (B, S, neurons)."""
    seen: list[torch.Tensor] = []

    def keep(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.detach())
        return x

    with ExitStack() as stack, torch.no_grad():
        for module in _down_projections(adapter):
            stack.enter_context(hooks.replace_input(module, keep))
        adapter.run(inputs)
    return seen


@dataclass
class ModalityNeurons:
    fraction: float = 0.05
    name: str = "miner_neurons"
    paper_id: str = "2410.04819"
    selected: list[torch.Tensor] | None = field(default=None, repr=False)  # per layer, bool (neurons,)

    def mine(self, adapter: Adapter, inputs: Inputs) -> ModalityNeurons:
        """Selects the image-specific neurons from a batch of inputs."""
        is_image = inputs["input_ids"] == adapter.image_token_id
        is_text = ~is_image
        is_text[:, 0] = False
        if "attention_mask" in inputs:
            is_text &= inputs["attention_mask"].bool()
        scores = []
        for acts in neuron_activations(adapter, inputs):
            magnitude = acts.float().abs()
            scores.append(magnitude[is_image].mean(0) - magnitude[is_text].mean(0))
        flat = torch.cat(scores)
        count = max(1, round(self.fraction * flat.numel()))
        chosen = torch.zeros_like(flat, dtype=torch.bool)
        chosen[flat.topk(count).indices] = True
        self.selected = list(chosen.split([s.numel() for s in scores]))
        return self

    def random_selection(self, seed: int) -> list[torch.Tensor]:
        """As many neurons as were mined, drawn at random: the control of the ablation."""
        assert self.selected is not None
        flat = torch.cat(self.selected).cpu()
        generator = torch.Generator().manual_seed(seed)
        chosen = torch.zeros_like(flat)
        chosen[torch.randperm(flat.numel(), generator=generator)[: int(flat.sum())]] = True
        return list(chosen.split([s.numel() for s in self.selected]))

    @contextmanager
    def ablated(self, adapter: Adapter, selection: list[torch.Tensor] | None = None) -> Iterator[None]:
        """Within the block, the selected neurons output zero at every position."""
        selection = selection if selection is not None else self.selected
        if selection is None:
            raise ValueError("mine() the neurons first")
        with ExitStack() as stack:
            for module, off in zip(_down_projections(adapter), selection, strict=True):
                stack.enter_context(
                    hooks.replace_input(module, lambda x, off=off: x.masked_fill(off.to(x.device), 0.0))
                )
            yield

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        """Where the mined neurons fire: their summed absolute activation at each token."""
        target = resolve_target(adapter, inputs, target)
        if self.selected is None:
            raise ValueError("mine() the neurons first")
        activity = sum(
            (acts[0].float().abs() * off.to(acts.device)).sum(-1)
            for acts, off in zip(neuron_activations(adapter, inputs), self.selected, strict=True)
        )
        return from_sequence(self.name, adapter, inputs, target, activity)
