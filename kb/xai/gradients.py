"""Gradient methods: integrated gradients (arXiv 1703.01365) and Grad-CAM on the vision encoder (arXiv 1610.02391)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kb.xai import hooks
from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, from_sequence, resolve_target


def input_embeddings(adapter: Adapter, inputs: Inputs) -> torch.Tensor:
    """The decoder's input sequence (1, S, D): text embeddings with the projected image features merged in."""
    seen: list[torch.Tensor] = []

    def keep(embeds: torch.Tensor) -> torch.Tensor:
        seen.append(embeds.detach())
        return embeds

    with hooks.replace_keyword(adapter.language_model, "inputs_embeds", keep), torch.no_grad():
        adapter.run(inputs)
    return seen[0]


def removed_inputs(adapter: Adapter, inputs: Inputs) -> Inputs:
    """The example with every image patch filled and every text token masked: the adapter's notion of absence."""
    rows, cols = adapter.grid(inputs)
    n_text = len(adapter.text_positions(inputs))
    return adapter.perturb(inputs, keep_image=torch.zeros(1, rows * cols, dtype=torch.bool), keep_text=torch.zeros(1, n_text, dtype=torch.bool))


@dataclass
class IntegratedGradients:
    """Path integral of gradients from a baseline to the decoder's input embeddings, summed per token.

    The baseline is the embedding of the example with all patches and words removed. An all-zero
    baseline is the textbook choice but is degenerate for pre-norm decoders: RMSNorm makes the output
    nearly constant along the path except in a sliver next to zero that no Riemann sum resolves.
    """

    steps: int = 32
    name: str = "integrated_gradients"
    paper_id: str = "1703.01365"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        clean = input_embeddings(adapter, inputs)
        baseline = input_embeddings(adapter, removed_inputs(adapter, inputs))
        # Midpoint rule: the Riemann sum that converges fastest for a fixed number of steps.
        alphas = (torch.arange(self.steps, dtype=clean.dtype) + 0.5) / self.steps
        path = (baseline + alphas[:, None, None] * (clean - baseline)).requires_grad_(True)
        with hooks.replace_keyword(adapter.language_model, "inputs_embeds", lambda _embeds: path), torch.enable_grad():
            logits = adapter.logits(adapter.repeat(inputs, self.steps))
            logits[:, target].sum().backward()
        adapter.model.zero_grad(set_to_none=True)
        attribution = ((clean - baseline)[0] * path.grad.mean(0)).sum(-1)  # type: ignore[union-attr]
        completeness = float(attribution.sum())
        return from_sequence(self.name, adapter, inputs, target, attribution, completeness=completeness)


@dataclass
class GradCAM:
    """Grad-CAM on the patch features the vision encoder hands to the projector: ReLU(sum_c w_c A_c), w = mean gradient."""

    name: str = "grad_cam"
    paper_id: str = "1610.02391"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        seen: list[torch.Tensor] = []

        def leaf(features: torch.Tensor) -> torch.Tensor:
            # A fresh leaf gets a gradient even when the checkpoint's vision weights are frozen.
            features = features.detach().requires_grad_(True)
            seen.append(features)
            return features

        with hooks.replace_input(adapter.vision_features, leaf), torch.enable_grad():
            adapter.logits(inputs)[0, target].backward()
        features = seen[0]
        if features.grad is None:
            raise RuntimeError("the vision features received no gradient")
        activations = features.detach().reshape(-1, features.shape[-1])
        gradients = features.grad.reshape(-1, features.shape[-1])
        adapter.model.zero_grad(set_to_none=True)
        cam = (activations * gradients.mean(0)).sum(-1).clamp(min=0)
        cam = cam.view(-1, adapter.patches_per_token).sum(-1)  # merged patches (Qwen2-VL) pool into their token
        rows, cols = adapter.grid(inputs)
        return Explanation(self.name, target, cam.reshape(rows, cols), None)
