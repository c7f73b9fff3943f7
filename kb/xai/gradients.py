"""Gradient methods: integrated gradients (arXiv 1703.01365) and Grad-CAM on the vision encoder (arXiv 1610.02391)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kb.xai import hooks
from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, from_sequence, resolve_target
from kb.xai.scoring import spans


def input_embeddings(adapter: Adapter, inputs: Inputs) -> torch.Tensor:
    """The decoder's input sequence (1, S, D): text embeddings with the projected image features merged in."""
    seen: list[torch.Tensor] = []

    def keep(embeds: torch.Tensor) -> torch.Tensor:
        seen.append(embeds.detach())
        return embeds

    with hooks.replace_keyword(adapter.language_model, "inputs_embeds", keep), torch.no_grad():
        adapter.run(inputs, logits_to_keep=1)
    return seen[0]


def removed_inputs(adapter: Adapter, inputs: Inputs) -> Inputs:
    """The example with every grid cell filled and every text token masked: the adapter's notion of absence."""
    rows, cols = adapter.grid(inputs)
    n_text = len(adapter.text_positions(inputs))
    return adapter.perturb(
        inputs,
        keep_image=torch.zeros(1, rows * cols, dtype=torch.bool),
        keep_text=torch.zeros(1, n_text, dtype=torch.bool),
    )


@dataclass
class IntegratedGradients:
    """Path integral of gradients from a baseline to the decoder's input embeddings, summed per token.

    The baseline is the embedding of the example with all patches and words removed. An all-zero
    baseline is the textbook choice but is degenerate for pre-norm decoders: RMSNorm makes the output
    nearly constant along the path except in a sliver next to zero that no Riemann sum resolves.
    The path is interpolated in float32 and cast to the model's dtype; steps run in memory-bounded chunks.
    """

    steps: int = 32
    name: str = "integrated_gradients"
    paper_id: str = "1703.01365"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        clean = input_embeddings(adapter, inputs)
        baseline_inputs = removed_inputs(adapter, inputs)
        baseline = input_embeddings(adapter, baseline_inputs)
        difference = (clean - baseline).float()
        # Midpoint rule: the Riemann sum that converges fastest for a fixed number of steps.
        alphas = (torch.arange(self.steps, device=clean.device, dtype=torch.float32) + 0.5) / self.steps
        gradient = torch.zeros(clean.shape[1:], device=clean.device, dtype=torch.float32)
        for start, stop in spans(self.steps, adapter.rows_per_chunk(inputs, grad=True)):
            path = (baseline.float() + alphas[start:stop, None, None] * difference).to(clean.dtype).requires_grad_(True)
            with (
                hooks.replace_keyword(adapter.language_model, "inputs_embeds", lambda _embeds, path=path: path),
                torch.enable_grad(),
            ):
                logits = adapter.logits(adapter.repeat(inputs, stop - start))
                logits[:, target].float().sum().backward()
            gradient += path.grad.float().sum(0)
        adapter.model.zero_grad(set_to_none=True)
        attribution = (difference[0] * gradient / self.steps).sum(-1)
        with torch.no_grad():
            change = float(
                adapter.logits(inputs)[0, target].float() - adapter.logits(baseline_inputs)[0, target].float()
            )
        return from_sequence(
            self.name, adapter, inputs, target, attribution, completeness=float(attribution.sum()), logit_change=change
        )


@dataclass
class GradCAM:
    """Grad-CAM on the patch features the vision encoder hands to the projector (or merger).

    resolution="channel" is the paper's: ReLU(sum_c w_c A_c) with w_c the gradient averaged over the grid.
    resolution="token" keeps each token's own gradient, ReLU(sum_c g_c A_c): a token-resolved map, since a
    language model's answer can depend on one patch's features in a direction the average cancels.
    """

    resolution: str = "channel"
    name: str = "grad_cam"
    paper_id: str = "1610.02391"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        if self.resolution not in ("channel", "token"):
            raise ValueError(f"resolution must be 'channel' or 'token', not '{self.resolution}'")
        target = resolve_target(adapter, inputs, target)
        seen: list[torch.Tensor] = []

        def leaf(features: torch.Tensor) -> torch.Tensor:
            # A fresh leaf gets a gradient even when the checkpoint's vision weights are frozen.
            features = features.detach().requires_grad_(True)
            seen.append(features)
            return features

        with hooks.replace_input(adapter.vision_features, leaf), torch.enable_grad():
            adapter.logits(inputs)[0, target].float().backward()
        features = seen[0]
        if features.grad is None:
            raise RuntimeError("the vision features received no gradient")
        width = features.shape[-1]
        activations = features.detach().float().reshape(-1, width)
        gradients = features.grad.float().reshape(-1, width)
        adapter.model.zero_grad(set_to_none=True)
        order = adapter.vision_feature_order(inputs)
        if order is not None:  # undo the encoder's reordering (Qwen2.5-VL windows): row r came from order[r]
            order = order.to(activations.device)
            activations, gradients = activations.clone(), gradients.clone()
            activations[order], gradients[order] = (
                features.detach().float().reshape(-1, width),
                features.grad.float().reshape(-1, width),
            )
        layout = adapter.layout(inputs)
        rows = layout.feature_rows.to(activations.device)
        if self.resolution == "channel":
            weights = gradients[rows.reshape(-1)].mean(0)  # global average over the grid (not CLS or newlines)
            per_row = (activations * weights).sum(-1)
        else:
            per_row = (activations * gradients).sum(-1)
        cam = per_row[rows].clamp(min=0).sum(-1)  # merged patches (Qwen) pool into their token
        return Explanation(
            self.name, target, cam.cpu().reshape(layout.rows, layout.cols), None, extras={"resolution": self.resolution}
        )
