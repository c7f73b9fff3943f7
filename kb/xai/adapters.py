"""Adapters: what the methods need to know about a model family, behind one interface.

`LlavaAdapter` fits Hugging Face LLaVA-style models (`LlavaForConditionalGeneration`: a vision tower, a
projector, a decoder) and `Qwen2VLAdapter` fits `Qwen2VLForConditionalGeneration` (patch rows plus
`image_grid_thw`, 2x2 patch merging). Methods see image tokens as a (rows, cols) grid, text tokens as
sequence positions, and perturb inputs only through `perturb`, so the same code runs on the tiny toy
model here and on a real checkpoint on a user's machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

Inputs = dict[str, torch.Tensor]


class Adapter:
    """Common behaviour; subclasses say where the parts are and how an image token maps to pixels."""

    def __init__(self, model: nn.Module, *, text_mask_token: int, image_fill: float = 0.0) -> None:
        self.model = model
        self.text_mask_token = text_mask_token  # replaces a text token when it is "removed"
        self.image_fill = image_fill  # pixel value of a removed patch
        self.image_token_id = int(model.config.image_token_id)

    # --- where the parts are -------------------------------------------------------------------
    @property
    def language_model(self) -> nn.Module:
        return self.model.model.language_model  # type: ignore[return-value]

    @property
    def decoder_layers(self) -> nn.ModuleList:
        return self.language_model.layers  # type: ignore[return-value]

    @property
    def final_norm(self) -> nn.Module:
        return self.language_model.norm  # type: ignore[return-value]

    @property
    def lm_head(self) -> nn.Module:
        return self.model.lm_head  # type: ignore[return-value]

    @property
    def vision_features(self) -> nn.Module:
        """The module whose first input is the vision encoder's patch features (Grad-CAM's layer)."""
        raise NotImplementedError

    patches_per_token = 1

    # --- positions ----------------------------------------------------------------------------
    def image_positions(self, inputs: Inputs) -> torch.Tensor:
        return (inputs["input_ids"][0] == self.image_token_id).nonzero().squeeze(1)

    def text_positions(self, inputs: Inputs) -> torch.Tensor:
        """Prompt tokens that carry words: not image placeholders, not the first (BOS) token."""
        ids = inputs["input_ids"][0]
        keep = ids != self.image_token_id
        keep[0] = False
        return keep.nonzero().squeeze(1)

    def grid(self, inputs: Inputs) -> tuple[int, int]:
        raise NotImplementedError

    # --- running ------------------------------------------------------------------------------
    def logits(self, inputs: Inputs, *, blocked: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        """Next-token logits at the last position, (B, vocab). `blocked` (B, S, S) bool cuts attention edges."""
        if blocked is not None:
            kwargs.update(self._blocking(inputs, blocked))
        return self.model(**inputs, **kwargs).logits[:, -1]  # type: ignore[no-any-return]

    def run(self, inputs: Inputs, **kwargs: Any) -> Any:
        return self.model(**inputs, **kwargs)

    def _blocking(self, inputs: Inputs, blocked: torch.Tensor) -> dict[str, Any]:
        length = inputs["input_ids"].shape[1]
        causal = torch.ones(length, length, dtype=torch.bool).triu(1)
        mask = torch.zeros(blocked.shape[0], 1, length, length)
        mask.masked_fill_(causal | blocked[:, None], torch.finfo(mask.dtype).min)
        return {"attention_mask": mask}

    def predicted(self, inputs: Inputs) -> int:
        with torch.no_grad():
            return int(self.logits(inputs).argmax(-1)[0])

    @contextmanager
    def eager_attention(self) -> Iterator[None]:
        """Attention weights are only materialised (readable, differentiable) by the eager implementation."""
        before = self.model.config._attn_implementation
        if before != "eager":
            self.model.set_attn_implementation("eager")
        try:
            yield
        finally:
            if before != "eager":
                self.model.set_attn_implementation(before)

    # --- perturbing ---------------------------------------------------------------------------
    def repeat(self, inputs: Inputs, n: int) -> Inputs:
        raise NotImplementedError

    def perturb(self, inputs: Inputs, keep_image: torch.Tensor | None = None, keep_text: torch.Tensor | None = None) -> Inputs:
        """A batch of N variants of one example: image tokens / text tokens whose keep flag is False are removed.

        keep_image: (N, n_image_tokens) bool in grid order; keep_text: (N, n_text_tokens) bool.
        """
        n = (keep_image if keep_image is not None else keep_text).shape[0]  # type: ignore[union-attr]
        out = self.repeat(inputs, n)
        if keep_text is not None:
            ids = out["input_ids"].clone()
            positions = self.text_positions(inputs)
            ids[:, positions] = torch.where(keep_text, ids[:, positions], torch.full_like(ids[:, positions], self.text_mask_token))
            out["input_ids"] = ids
        if keep_image is not None:
            out["pixel_values"] = self._remove_patches(out, keep_image)
        return out

    def _remove_patches(self, inputs: Inputs, keep_image: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class LlavaAdapter(Adapter):
    """`LlavaForConditionalGeneration`: pixel_values (B, 3, H, W), one image token per ViT patch."""

    @property
    def vision_features(self) -> nn.Module:
        return self.model.model.multi_modal_projector  # type: ignore[return-value]

    def _patch(self) -> int:
        return int(self.model.config.vision_config.patch_size)

    def grid(self, inputs: Inputs) -> tuple[int, int]:
        height, width = inputs["pixel_values"].shape[-2:]
        return height // self._patch(), width // self._patch()

    def repeat(self, inputs: Inputs, n: int) -> Inputs:
        return {key: value.expand(n, *value.shape[1:]).clone() for key, value in inputs.items()}

    def _remove_patches(self, inputs: Inputs, keep_image: torch.Tensor) -> torch.Tensor:
        pixels = inputs["pixel_values"]
        rows, cols = self.grid(inputs)
        p = self._patch()
        keep = keep_image.view(-1, 1, rows, cols).float()
        keep = keep.repeat_interleave(p, 2).repeat_interleave(p, 3)
        return pixels * keep + self.image_fill * (1 - keep)


class Qwen2VLAdapter(Adapter):
    """`Qwen2VLForConditionalGeneration`: pixel_values are patch rows with `image_grid_thw`; 2x2 patches make a token.

    Inputs carry `mm_token_type_ids` (1 at image tokens), as the Qwen2-VL processor returns them.
    """

    @property
    def vision_features(self) -> nn.Module:
        return self.model.model.visual.merger  # type: ignore[return-value]

    @property
    def patches_per_token(self) -> int:  # type: ignore[override]
        return int(self.model.config.vision_config.spatial_merge_size) ** 2

    def grid(self, inputs: Inputs) -> tuple[int, int]:
        merge = int(self.model.config.vision_config.spatial_merge_size)
        _, height, width = (int(v) for v in inputs["image_grid_thw"][0])
        return height // merge, width // merge

    def repeat(self, inputs: Inputs, n: int) -> Inputs:
        out = {key: value.expand(n, *value.shape[1:]).clone() for key, value in inputs.items() if key not in ("pixel_values", "image_grid_thw")}
        out["pixel_values"] = inputs["pixel_values"].repeat(n, 1)
        out["image_grid_thw"] = inputs["image_grid_thw"].repeat(n, 1)
        return out

    def _remove_patches(self, inputs: Inputs, keep_image: torch.Tensor) -> torch.Tensor:
        # Patch rows come in merge groups: the k-th run of `patches_per_token` rows is image token k.
        pixels = inputs["pixel_values"]
        n = keep_image.shape[0]
        keep = keep_image.float().repeat_interleave(self.patches_per_token, dim=1).reshape(-1, 1)
        per_image = pixels.shape[0] // n
        if keep.shape[0] != n * per_image:
            raise ValueError("one image per example is supported")
        return pixels * keep + self.image_fill * (1 - keep)

    def _blocking(self, inputs: Inputs, blocked: torch.Tensor) -> dict[str, Any]:
        # Multimodal rotary positions are computed from a 2D mask, so compute them before passing a 4D one.
        position_ids, _ = self.model.model.get_rope_index(
            inputs["input_ids"], inputs["mm_token_type_ids"], inputs["image_grid_thw"], attention_mask=torch.ones_like(inputs["input_ids"])
        )
        return {**super()._blocking(inputs, blocked), "position_ids": position_ids}


def for_model(model: nn.Module, **kwargs: Any) -> Adapter:
    """The adapter for a model, chosen by its config's model_type."""
    kind = getattr(model.config, "model_type", "")
    if kind == "llava":
        return LlavaAdapter(model, **kwargs)
    if kind in ("qwen2_vl", "qwen2_5_vl"):
        return Qwen2VLAdapter(model, **kwargs)
    raise ValueError(f"no adapter for model_type '{kind}' (supported: llava, qwen2_vl)")
