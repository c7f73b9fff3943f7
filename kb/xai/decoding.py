"""Visual contrastive decoding (VCD, arXiv 2311.16922): contrast the answer with the answer to a distorted image.

Logits become (1 + alpha) * logits(image) - alpha * logits(noisy image), restricted to tokens whose
probability under the clean image is at least beta times the top one (the adaptive plausibility
constraint). It is a decoding method, not an attribution: it has no patch scores, and the benchmark
reports what it does to accuracy and how far the answer depends on the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from kb.xai.adapters import Adapter, Inputs


@dataclass
class VisualContrastiveDecoding:
    alpha: float = 1.0
    beta: float = 0.1
    noise_step: int = 500  # of 1000 diffusion steps, the official code's default distortion
    seed: int = 0
    name: str = "vcd"
    paper_id: str = "2311.16922"

    def distort(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Forward diffusion noise, sqrt(a_t) x + sqrt(1 - a_t) eps, with the official code's schedule.

        VCD's code draws 1000 betas as sigmoid(linspace(-6, 6)) scaled into [1e-5, 5e-3] (not DDPM's linear
        1e-4..0.02, which at step 500 leaves far less of the image). Noise is drawn on the CPU from the
        method's seed and moved to the pixels' device and dtype.
        """
        betas = torch.sigmoid(torch.linspace(-6, 6, 1000)) * (0.5e-2 - 1e-5) + 1e-5
        keep = float(torch.cumprod(1 - betas, 0)[self.noise_step])
        generator = torch.Generator().manual_seed(self.seed)
        noise = torch.randn(pixel_values.shape, generator=generator).to(pixel_values.device, pixel_values.dtype)
        return math.sqrt(keep) * pixel_values + math.sqrt(1 - keep) * noise

    def logits(self, adapter: Adapter, inputs: Inputs) -> torch.Tensor:
        """Contrastive next-token logits (B, vocab); implausible tokens get -inf."""
        with torch.no_grad():
            clean = adapter.logits(inputs)
            noisy = adapter.logits({**inputs, "pixel_values": self.distort(inputs["pixel_values"])})
        clean, noisy = clean.float(), noisy.float()
        contrast = (1 + self.alpha) * clean - self.alpha * noisy
        probs = clean.softmax(-1)
        plausible = probs >= self.beta * probs.max(-1, keepdim=True).values
        return contrast.masked_fill(~plausible, float("-inf"))

    def decode(self, adapter: Adapter, inputs: Inputs) -> torch.Tensor:
        return self.logits(adapter, inputs).argmax(-1)
