"""A token activation map in the manner of TAM (Li et al., arXiv 2506.23270).

The map of a token is a class activation map with the unembedding as the classifier: the model's own
logit for the token at every position, ReLU'd (at image positions: where the image reads as the token).
Earlier context tokens leave their own activations in that map; TAM's estimated causal inference removes
them: the interference is the context tokens' maps (each for its own token), weighted by how strongly
each context position reads as the explained token, scaled by least squares and subtracted (ReLU'd).
Image and text scores are then min-max normalised together, and the image map is denoised by TAM's rank
Gaussian filter (a 3x3 window, sorted, weighted by a Gaussian over ranks whose width is the window's
coefficient of variation). Context tokens equal to the explained token are left out of the interference,
as in the official code; the readout position (the explained token's own context) is left out of the
normalisation. Differences from the paper: no multi-round bookkeeping (each target token is explained
at its own position by the caller), and the least-squares scale is the closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, resolve_target


def rank_gaussian_filter(image: torch.Tensor, size: int = 3) -> torch.Tensor:
    """TAM's rank Gaussian filter of a (rows, cols) map (reflect padding, like the official code)."""
    pad = size // 2
    padded = (
        torch.nn.functional.pad(image[None, None], (pad, pad, pad, pad), mode="reflect")[0, 0]
        if min(image.shape) > pad
        else torch.nn.functional.pad(image[None, None], (pad, pad, pad, pad), mode="replicate")[0, 0]
    )
    windows = padded.unfold(0, size, 1).unfold(1, size, 1).reshape(*image.shape, size * size)
    ordered = windows.sort(-1).values
    mean = ordered.mean(-1, keepdim=True)
    sigma = ordered.std(-1, unbiased=False, keepdim=True) / mean.clamp(
        min=1e-12
    )  # std over mean: the coefficient of variation
    ranks = (torch.arange(size * size, dtype=image.dtype) - size * size // 2) ** 2
    kernel = torch.exp(-ranks / (2 * sigma.clamp(min=1e-6) ** 2))
    kernel = kernel / kernel.sum(-1, keepdim=True)
    return torch.where(mean[..., 0] > 0, (ordered * kernel).sum(-1), torch.zeros_like(image))


@dataclass
class TokenActivationMap:
    filter_size: int = 3
    name: str = "token_activation_map"
    paper_id: str = "2506.23270"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        layout = adapter.layout(inputs)
        text_positions = adapter.text_positions(inputs).cpu()
        with torch.no_grad():
            logits = adapter.run(inputs).logits[0].float().cpu()  # (S, vocab): every position's reading
        cells = layout.grid_positions.cpu()
        ids = inputs["input_ids"][0].cpu()
        image = logits[cells, target].clamp(min=0)
        text = logits[text_positions, target].clamp(min=0)
        readout = len(ids) - 1
        context = [i for i, p in enumerate(text_positions.tolist()) if p != readout and int(ids[p]) != target]
        interference_scale = 0.0
        if context:
            weights = text[context] / (text[context].sum() + 1e-8)
            maps = logits[cells][:, ids[text_positions[context]]].clamp(min=0)  # each context token's own map
            interference = maps @ weights
            norm = float(interference @ interference)
            if norm > 0:
                interference_scale = float(image @ interference) / norm  # least squares: min |image - s * interference|
                image = (image - interference_scale * interference).clamp(min=0)
        keep = torch.tensor([p != readout for p in text_positions.tolist()], dtype=torch.bool)
        joint = torch.cat([image, text[keep]])
        low, high = float(joint.min()), float(joint.max())
        scale = high - low if high > low else 1.0
        image, text = (image - low) / scale, ((text - low) / scale).clamp(min=0) * keep
        filtered = rank_gaussian_filter(image.reshape(layout.rows, layout.cols), self.filter_size)
        return Explanation(
            self.name, target, filtered, text, text_positions, extras={"interference_scale": interference_scale}
        )
