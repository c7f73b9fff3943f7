"""The random baseline: scores that know nothing. Every metric should put it at chance."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, resolve_target


@dataclass
class RandomBaseline:
    seed: int = 0
    name: str = "random"
    paper_id: str = ""
    _generator: torch.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._generator = torch.Generator().manual_seed(self.seed)

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        text_positions = adapter.text_positions(inputs)
        image = torch.rand(rows, cols, generator=self._generator)
        text = torch.rand(len(text_positions), generator=self._generator)
        return Explanation(self.name, target, image, text, text_positions)
