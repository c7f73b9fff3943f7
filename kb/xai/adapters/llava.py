"""LLaVA (`LlavaForConditionalGeneration`): pixel_values (B, 3, H, W), one image token per ViT patch.

With vision_feature_select_strategy="full" the projector also receives the CLS token, which becomes the
first image token: it is no grid cell, so it is kept out of the grid (and out of Grad-CAM's map).
"""

from __future__ import annotations

import torch
from torch import nn

from kb.xai.adapters.base import Adapter, Inputs
from kb.xai.adapters.layout import Layout

STRATEGIES = ("default", "full")


class LlavaAdapter(Adapter):
    family = "llava"
    model_class = "LlavaForConditionalGeneration"

    def __init__(self, model: nn.Module, **kwargs: object) -> None:
        super().__init__(model, **kwargs)
        strategy = model.config.vision_feature_select_strategy
        if strategy not in STRATEGIES:
            raise ValueError(
                f"vision_feature_select_strategy '{strategy}' is not supported (supported: {', '.join(STRATEGIES)})"
            )
        if not isinstance(model.config.vision_feature_layer, int):
            raise ValueError("several vision_feature_layer values are not supported (one layer expected)")
        self.cls_tokens = 1 if strategy == "full" else 0

    @property
    def vision_features(self) -> nn.Module:
        return self.model.model.multi_modal_projector

    @property
    def projector(self) -> nn.Module:
        return self.model.model.multi_modal_projector

    @property
    def vision_layers(self) -> nn.ModuleList:
        return _encoder_layers(self.model.model.vision_tower)

    def _patch(self) -> int:
        return int(self.model.config.vision_config.patch_size)

    def vision_patches(self, inputs: Inputs) -> int:
        height, width = inputs["pixel_values"].shape[-2:]
        return int(inputs["pixel_values"].shape[0]) * (height // self._patch()) * (width // self._patch()) + 1

    def _layout(self, inputs: Inputs) -> Layout:
        height, width = inputs["pixel_values"].shape[-2:]
        rows, cols = height // self._patch(), width // self._patch()
        placeholders = self.placeholder_positions(inputs)
        if len(placeholders) != rows * cols + self.cls_tokens:
            raise ValueError(f"{len(placeholders)} image tokens for a {rows}x{cols} patch grid")
        feature_rows = (torch.arange(rows * cols) + self.cls_tokens)[:, None]
        return Layout(rows, cols, placeholders[self.cls_tokens :], placeholders, feature_rows)

    def pixel_keep(self, inputs: Inputs, keep_image: torch.Tensor) -> torch.Tensor:
        rows, cols = self.grid(inputs)
        p = self._patch()
        keep = keep_image.view(-1, 1, rows, cols)
        return keep.repeat_interleave(p, 2).repeat_interleave(p, 3)


def _encoder_layers(tower: nn.Module) -> nn.ModuleList:
    """The vision tower's transformer layers (CLIP and SigLIP keep them in `encoder.layers`, some under
    `vision_model`)."""
    inner = getattr(tower, "vision_model", tower)
    return inner.encoder.layers
