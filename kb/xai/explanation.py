"""The one shape contract every method returns: scores over image patches and over text tokens.

The verb is `method.explain(adapter, inputs, target=None) -> Explanation` (in the spirit of Captum's
`attribute`): one example in, one explanation out. Higher means "more responsible for `target`".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import torch


@dataclass(frozen=True)
class Explanation:
    method: str
    target: int  # the token id whose score is explained
    image: torch.Tensor | None  # (rows, cols): one score per image token, laid out as the image grid
    text: torch.Tensor | None  # (n,): one score per text token of the prompt
    text_positions: torch.Tensor | None = None  # (n,): where those text tokens sit in the sequence
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.image is not None and self.image.dim() != 2:
            raise ValueError(f"{self.method}: image scores must be (rows, cols), got {tuple(self.image.shape)}")
        if self.text is not None:
            if self.text.dim() != 1:
                raise ValueError(f"{self.method}: text scores must be (n,), got {tuple(self.text.shape)}")
            if self.text_positions is None or self.text_positions.shape != self.text.shape:
                raise ValueError(f"{self.method}: text scores need one sequence position each")

    @property
    def image_flat(self) -> torch.Tensor:
        if self.image is None:
            raise ValueError(f"{self.method} gives no image scores")
        return self.image.reshape(-1)

    def image_share(self) -> float | None:
        """The image's share of the absolute attribution (MM-SHAP's modality contribution when the scores are Shapley
        values)."""
        if self.image is None or self.text is None:
            return None
        image, text = float(self.image.abs().sum()), float(self.text.abs().sum())
        return image / (image + text) if image + text > 0 else None


class Method(Protocol):
    name: str
    paper_id: str

    def explain(self, adapter: Any, inputs: dict[str, torch.Tensor], target: int | None = None) -> Explanation: ...


def from_sequence(
    method: str, adapter: Any, inputs: dict[str, torch.Tensor], target: int, scores: torch.Tensor, **extras: Any
) -> Explanation:
    """Splits one score per sequence position into the image grid and the text tokens (on the CPU, in float32).

    Image tokens outside the grid keep their scores too: LLaVA-NeXT's overview tile goes to extras["overview"].
    """
    scores = scores.detach().float().cpu()
    layout = adapter.layout(inputs)
    text_positions = adapter.text_positions(inputs).cpu()
    if layout.overview_positions is not None and layout.overview_shape is not None:
        extras["overview"] = scores[layout.overview_positions.cpu()].reshape(layout.overview_shape)
    return Explanation(
        method=method,
        target=target,
        image=scores[layout.grid_positions.cpu()].reshape(layout.rows, layout.cols),
        text=scores[text_positions],
        text_positions=text_positions,
        extras=extras,
    )


def resolve_target(adapter: Any, inputs: dict[str, torch.Tensor], target: int | None) -> int:
    """The explained token: the given one, else the model's own prediction."""
    return adapter.predicted(inputs) if target is None else int(target)
