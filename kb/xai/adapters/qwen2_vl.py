"""Qwen2-VL and Qwen2.5-VL: pixel_values are patch rows with `image_grid_thw`; merge x merge patches make a token.

The processor orders patch rows so that the k-th run of merge**2 rows is image token k (row-major over
the token grid). Qwen2.5-VL's vision encoder reorders the rows into attention windows and restores the
order only after its merger, so the rows Grad-CAM reads at the merger's input are in window order:
`vision_feature_order` says where each one came from, and the map is put back in grid order.
Multimodal rotary positions are computed from a 2D mask, so a 4D attention mask needs them precomputed.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from kb.xai.adapters.base import Adapter, Inputs
from kb.xai.adapters.layout import Layout


class Qwen2VLAdapter(Adapter):
    family = "qwen2_vl"
    model_class = "Qwen2VLForConditionalGeneration"

    @property
    def merge(self) -> int:
        return int(self.model.config.vision_config.spatial_merge_size)

    @property
    def vision_features(self) -> nn.Module:
        return self.model.model.visual.merger

    @property
    def projector(self) -> nn.Module:
        return self.model.model.visual.merger

    @property
    def vision_layers(self) -> nn.ModuleList:
        return self.model.model.visual.blocks

    def vision_patches(self, inputs: Inputs) -> int:
        return int(inputs["pixel_values"].shape[0])

    def _layout(self, inputs: Inputs) -> Layout:
        grids = inputs["image_grid_thw"]
        if grids.shape[0] != inputs["input_ids"].shape[0] or int(grids[0, 0]) != 1:
            raise ValueError("one still image per example is supported (image_grid_thw must have t = 1)")
        _, height, width = (int(v) for v in grids[0])
        rows, cols = height // self.merge, width // self.merge
        placeholders = self.placeholder_positions(inputs)
        if len(placeholders) != rows * cols:
            raise ValueError(f"{len(placeholders)} image tokens for a {rows}x{cols} token grid")
        unit = self.merge**2
        feature_rows = torch.arange(rows * cols)[:, None] * unit + torch.arange(unit)[None, :]
        return Layout(rows, cols, placeholders, placeholders, feature_rows)

    def repeat(self, inputs: Inputs, n: int) -> Inputs:
        out = {
            key: value.expand(n, *value.shape[1:]).clone()
            for key, value in inputs.items()
            if key not in ("pixel_values", "image_grid_thw")
        }
        out["pixel_values"] = self.repeat_pixels(inputs["pixel_values"], n)
        out["image_grid_thw"] = inputs["image_grid_thw"].repeat(n, 1)
        return out

    def repeat_pixels(self, pixels: torch.Tensor, n: int) -> torch.Tensor:
        return pixels.repeat(n, 1)

    def pixel_keep(self, inputs: Inputs, keep_image: torch.Tensor) -> torch.Tensor:
        return keep_image.repeat_interleave(self.merge**2, dim=1).reshape(-1, 1)

    def _blocking(self, inputs: Inputs, blocked: torch.Tensor) -> dict[str, Any]:
        mask = inputs.get("attention_mask")
        position_ids, _ = self.model.model.get_rope_index(
            inputs["input_ids"],
            mm_token_type_ids=inputs["mm_token_type_ids"],
            image_grid_thw=inputs["image_grid_thw"],
            attention_mask=mask if mask is not None else torch.ones_like(inputs["input_ids"]),
        )
        return {**super()._blocking(inputs, blocked), "position_ids": position_ids}


class Qwen2_5VLAdapter(Qwen2VLAdapter):
    family = "qwen2_5_vl"
    model_class = "Qwen2_5_VLForConditionalGeneration"

    def vision_feature_order(self, inputs: Inputs) -> torch.Tensor:
        """For each row at the merger's input, the row it was before the encoder's window reordering."""
        from transformers.vision_utils import get_vision_window_index

        visual = self.model.model.visual
        window_index, _ = get_vision_window_index(
            inputs["image_grid_thw"][:1].cpu(),
            spatial_merge_size=visual.spatial_merge_size,
            window_size=visual.window_size,
            patch_size=visual.patch_size,
        )
        unit = self.merge**2
        return (window_index[:, None] * unit + torch.arange(unit)[None, :]).reshape(-1)
