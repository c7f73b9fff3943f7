"""LLaVA-NeXT (`LlavaNextForConditionalGeneration`): anyres tiles.

pixel_values are (B, tiles, 3, S, S): tile 0 is the whole image at low resolution (the overview), the
others crop the image at high resolution. The language model sees the overview's tokens, then the
high-resolution tokens as rows of the unpadded image, each row ended by a newline token. The grid is the
high-resolution one; the overview's tokens are listed apart. Which feature each image token holds is
read off the model's own `pack_image_features`, run on feature indices instead of features, so the
geometry follows the library (unpadding, newline tokens) instead of re-deriving it.

Perturbing a cell removes its high-resolution patch; the overview stays whole (documented on the
method pages: on this family, perturbation scores say what the high-resolution view adds).
"""

from __future__ import annotations

import torch
from torch import nn

from kb.xai.adapters.base import Adapter, Inputs
from kb.xai.adapters.layout import Layout
from kb.xai.adapters.llava import _encoder_layers


class LlavaNextAdapter(Adapter):
    family = "llava_next"
    model_class = "LlavaNextForConditionalGeneration"

    def __init__(self, model: nn.Module, **kwargs: object) -> None:
        super().__init__(model, **kwargs)
        if model.config.vision_feature_select_strategy != "default":
            raise ValueError(
                "LLaVA-NeXT is supported with vision_feature_select_strategy='default' only "
                "(transformers cannot tile the CLS token)"
            )

    @property
    def vision_features(self) -> nn.Module:
        return self.model.model.multi_modal_projector

    @property
    def projector(self) -> nn.Module:
        return self.model.model.multi_modal_projector

    @property
    def vision_layers(self) -> nn.ModuleList:
        return _encoder_layers(self.model.model.vision_tower)

    def _side(self) -> tuple[int, int]:
        vision = self.model.config.vision_config
        return int(vision.image_size) // int(vision.patch_size), int(vision.patch_size)

    def vision_patches(self, inputs: Inputs) -> int:
        side, _ = self._side()
        return int(inputs["pixel_values"].shape[0] * inputs["pixel_values"].shape[1]) * (side * side + 1)

    def tiles(self, inputs: Inputs) -> int:
        from transformers.models.llava_next.modeling_llava_next import image_size_to_num_patches

        config = self.model.config
        return int(
            image_size_to_num_patches(
                inputs["image_sizes"][0], config.image_grid_pinpoints, config.vision_config.image_size
            )
        )

    def _layout(self, inputs: Inputs) -> Layout:
        side, _ = self._side()
        per_tile = side * side
        tiles = self.tiles(inputs)
        index = torch.arange(tiles * per_tile, dtype=torch.float64).view(tiles, per_tile, 1)
        newline = torch.tensor([-1.0], dtype=torch.float64)
        packed, _ = self.model.model.pack_image_features(
            [index], inputs["image_sizes"][:1].cpu(), "default", image_newline=newline
        )
        feature = packed[0][:, 0].round().long()  # per image token, in sequence order: feature index, -1 for newline
        placeholders = self.placeholder_positions(inputs)
        if len(placeholders) != len(feature):
            raise ValueError(f"{len(placeholders)} image tokens where the model packs {len(feature)}")
        overview = (feature >= 0) & (feature < per_tile)
        detail = feature >= per_tile
        newlines = int((feature < 0).sum())
        if int(detail.sum()) == 0:  # a single tile: the overview is the grid
            rows = cols = side
            cells = overview
            overview_positions, overview_shape = None, None
        else:
            rows = newlines
            cols = int(detail.sum()) // rows
            cells = detail
            overview_positions, overview_shape = placeholders[overview.to(placeholders.device)], (side, side)
        return Layout(
            rows,
            cols,
            placeholders[cells.to(placeholders.device)],
            placeholders,
            feature[cells][:, None],
            overview_positions,
            overview_shape,
        )

    def pixel_keep(self, inputs: Inputs, keep_image: torch.Tensor) -> torch.Tensor:
        side, patch = self._side()
        layout = self.layout(inputs)
        n, tiles = keep_image.shape[0], inputs["pixel_values"].shape[1]
        keep = torch.ones(n, tiles * side * side, dtype=torch.bool, device=keep_image.device)
        keep[:, layout.feature_rows[:, 0].to(keep.device)] = keep_image
        keep = keep.view(n, tiles, 1, side, side)
        return keep.repeat_interleave(patch, 3).repeat_interleave(patch, 4)
