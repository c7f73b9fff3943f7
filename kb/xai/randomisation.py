"""Model-randomisation sanity checks (Adebayo et al., arXiv 1810.03292): cascading and independent.

Cascading re-initialises blocks from the output back to the input, one more at each stage; independent
re-initialises one block at a time. Each re-initialised weight gets Gaussian values with that weight's
own standard deviation (its scale kept, its content gone), from a seeded generator; the weights are put
back on the way out, even when the body raises. An explanation that still looks the same after the model
is scrambled does not depend on what the model learnt.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from kb.xai.adapters import Adapter


@contextmanager
def reinitialised(blocks: list[nn.Module], seed: int) -> Iterator[None]:
    generator = torch.Generator().manual_seed(seed)
    saved: list[tuple[torch.Tensor, torch.Tensor]] = []
    try:
        with torch.no_grad():
            for block in blocks:
                for parameter in block.parameters():
                    saved.append((parameter, parameter.detach().clone()))
                    std = float(parameter.float().std()) if parameter.numel() > 1 else 0.02
                    noise = torch.randn(parameter.shape, generator=generator) * (std or 0.02)
                    parameter.copy_(noise.to(parameter.device, parameter.dtype))
        yield
    finally:
        with torch.no_grad():
            for parameter, value in saved:
                parameter.copy_(value)


def stages(adapter: Adapter) -> list[tuple[str, nn.Module]]:
    """The blocks, from the output back to the input (lm_head, decoder layers, projector, vision layers)."""
    return adapter.randomisable_blocks()


@contextmanager
def cascading(adapter: Adapter, stage: int, seed: int) -> Iterator[None]:
    """The first `stage + 1` blocks (from the output) re-initialised."""
    with reinitialised([block for _, block in stages(adapter)[: stage + 1]], seed):
        yield


@contextmanager
def independent(adapter: Adapter, stage: int, seed: int) -> Iterator[None]:
    """Only block `stage` re-initialised."""
    with reinitialised([stages(adapter)[stage][1]], seed):
        yield
