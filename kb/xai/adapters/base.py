"""What every method needs from a model family, behind one interface.

Methods see image tokens as a (rows, cols) grid (`layout`), text tokens as sequence positions, and change
inputs only through `perturb` and `logits(blocked=...)`, so the same code runs on the toy models and on a
user's checkpoint. Every tensor an adapter creates is put on the model's device and in its dtype; the
processor's `attention_mask` is carried through; batches of perturbed variants are built and run in
chunks whose size follows a memory bound (`rows_per_chunk`), never all at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from kb.xai.adapters.layout import Layout

Inputs = dict[str, torch.Tensor]

DEFAULT_MEMORY_MB = 1024  # per chunk of perturbed variants; KB_XAI_MEMORY_MB or kb xai explain --memory-mb change it
MAX_ROWS = 256  # a ceiling even when the estimate says more would fit: the estimate is rough


def memory_bound() -> int:
    return int(os.environ.get("KB_XAI_MEMORY_MB", DEFAULT_MEMORY_MB)) << 20


class Adapter:
    """Common behaviour; a subclass says where the parts are and how an image token maps to features and pixels."""

    family = ""
    model_class = ""

    def __init__(
        self,
        model: nn.Module,
        *,
        text_mask_token: int | None = None,
        image_fill: float = 0.0,
        memory_bytes: int | None = None,
    ) -> None:
        self.model = model
        config = model.config
        self.image_token_id = int(config.image_token_id)
        text = config.text_config
        fallback = getattr(text, "pad_token_id", None)
        if fallback is None:
            fallback = getattr(text, "eos_token_id", None)
        if isinstance(fallback, list):
            fallback = fallback[0]
        # A removed word becomes this token (the pad token unless told otherwise: it carries no content).
        self.text_mask_token = int(text_mask_token if text_mask_token is not None else (fallback or 0))
        self.image_fill = image_fill  # value of a removed patch in the processor's normalised pixel space
        self.memory_bytes = memory_bytes or memory_bound()
        self.max_rows_seen = 0  # the largest batch the model was run on: tests hold it to the bound
        self._layout_cache: tuple[Any, Layout] | None = None

    # --- device and dtype --------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        for parameter in self.model.parameters():
            if parameter.is_floating_point():
                return parameter.dtype
        return torch.float32

    def prepare(self, inputs: Inputs) -> Inputs:
        """The processor's output on the model's device, pixel values in the model's dtype."""
        out = {}
        for key, value in inputs.items():
            if not isinstance(value, torch.Tensor):
                continue
            moved = value.to(self.device)
            out[key] = moved.to(self.dtype) if moved.is_floating_point() else moved
        return out

    # --- where the parts are -------------------------------------------------------------------
    @property
    def language_model(self) -> nn.Module:
        return self.model.model.language_model

    @property
    def decoder_layers(self) -> nn.ModuleList:
        return self.language_model.layers

    @property
    def final_norm(self) -> nn.Module:
        return self.language_model.norm

    @property
    def lm_head(self) -> nn.Module:
        return self.model.lm_head

    @property
    def vision_features(self) -> nn.Module:
        """The module whose first input is the vision encoder's patch features (Grad-CAM's layer)."""
        raise NotImplementedError

    def vision_feature_order(self, inputs: Inputs) -> torch.Tensor | None:
        """How the rows Grad-CAM reads are ordered, when not as `layout.feature_rows` expects (Qwen2.5-VL windows)."""
        return None

    def randomisable_blocks(self) -> list[tuple[str, nn.Module]]:
        """Named blocks from the output back to the input, for the cascading randomisation check."""
        blocks: list[tuple[str, nn.Module]] = [("lm_head", self.lm_head)]
        blocks += [(f"decoder.{i}", layer) for i, layer in reversed(list(enumerate(self.decoder_layers)))]
        blocks += [("projector", self.projector)]
        blocks += [(f"vision.{i}", layer) for i, layer in reversed(list(enumerate(self.vision_layers)))]
        return blocks

    @property
    def projector(self) -> nn.Module:
        raise NotImplementedError

    @property
    def vision_layers(self) -> nn.ModuleList:
        raise NotImplementedError

    # --- positions ----------------------------------------------------------------------------
    def layout(self, inputs: Inputs) -> Layout:
        key = self._layout_key(inputs)
        if self._layout_cache is not None and self._layout_cache[0] == key:
            return self._layout_cache[1]
        layout = self._layout(inputs)
        self._layout_cache = (key, layout)
        return layout

    def _layout_key(self, inputs: Inputs) -> Any:
        extra = tuple(tuple(inputs[k].reshape(-1).tolist()) for k in ("image_sizes", "image_grid_thw") if k in inputs)
        return (tuple(inputs["input_ids"][0].tolist()), tuple(inputs["pixel_values"].shape), extra)

    def _layout(self, inputs: Inputs) -> Layout:
        raise NotImplementedError

    def placeholder_positions(self, inputs: Inputs) -> torch.Tensor:
        return (inputs["input_ids"][0] == self.image_token_id).nonzero().squeeze(1)

    def image_positions(self, inputs: Inputs) -> torch.Tensor:
        """Sequence positions of the grid cells, row-major."""
        return self.layout(inputs).grid_positions

    def grid(self, inputs: Inputs) -> tuple[int, int]:
        layout = self.layout(inputs)
        return layout.rows, layout.cols

    def text_positions(self, inputs: Inputs) -> torch.Tensor:
        """Prompt tokens that carry words: not image placeholders, not padding, not a leading BOS."""
        ids = inputs["input_ids"][0]
        keep = ids != self.image_token_id
        if "attention_mask" in inputs:
            keep &= inputs["attention_mask"][0].bool()
        if int(ids[0]) == getattr(self.model.config.text_config, "bos_token_id", None):
            keep[0] = False  # the attention sink, not a word of the prompt
        return keep.nonzero().squeeze(1)

    # --- running ------------------------------------------------------------------------------
    def run(self, inputs: Inputs, **kwargs: Any) -> Any:
        self.max_rows_seen = max(self.max_rows_seen, int(inputs["input_ids"].shape[0]))
        return self.model(**inputs, **kwargs)

    def logits(self, inputs: Inputs, *, blocked: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        """Next-token logits at the last position, (B, vocab). `blocked` (B, S, S) bool cuts attention edges."""
        if blocked is not None:
            kwargs.update(self._blocking(inputs, blocked))
            inputs = {k: v for k, v in inputs.items() if k != "attention_mask"}  # folded into the 4D mask
        return self.run(inputs, logits_to_keep=1, **kwargs).logits[:, -1]  # type: ignore[no-any-return]

    def _blocking(self, inputs: Inputs, blocked: torch.Tensor) -> dict[str, Any]:
        """A 4D additive mask in the model's dtype: causal, the processor's padding, and the cut edges."""
        length = inputs["input_ids"].shape[1]
        cut = torch.ones(length, length, dtype=torch.bool, device=self.device).triu(1) | blocked.to(self.device)
        if "attention_mask" in inputs:
            cut = cut | ~inputs["attention_mask"].to(self.device).bool()[:, None, :]
        mask = torch.zeros(cut.shape[0], 1, length, length, dtype=self.dtype, device=self.device)
        return {"attention_mask": mask.masked_fill(cut[:, None], torch.finfo(self.dtype).min)}

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

    # --- memory -------------------------------------------------------------------------------
    def bytes_per_row(self, inputs: Inputs, *, grad: bool = False) -> int:
        """A rough upper estimate of the memory one perturbed variant takes in a forward (and backward) pass."""
        config = self.model.config
        text, vision = config.text_config, config.vision_config
        element = torch.finfo(self.dtype).bits // 8
        rows = int(inputs["input_ids"].shape[0])
        length = int(inputs["input_ids"].shape[1])
        pixels = inputs["pixel_values"].numel() // rows * element
        hidden, heads = int(text.hidden_size), int(text.num_attention_heads)
        inter = int(getattr(text, "intermediate_size", 4 * hidden))
        text_layer = length * (6 * hidden + 3 * inter) + heads * length * length * 2
        width = int(getattr(vision, "embed_dim", None) or vision.hidden_size)
        patches = self.vision_patches(inputs) // rows
        vision_heads = int(getattr(vision, "num_heads", None) or getattr(vision, "num_attention_heads", 8))
        vision_layer = patches * (6 * width + 3 * int(getattr(vision, "intermediate_size", 4 * width)))
        vision_layer += vision_heads * patches * patches * 2
        layers = len(self.decoder_layers) + len(self.vision_layers) if grad else 3
        return pixels * 3 + element * layers * max(text_layer, vision_layer) + int(text.vocab_size) * 4

    def vision_patches(self, inputs: Inputs) -> int:
        raise NotImplementedError

    def rows_per_chunk(self, inputs: Inputs, *, grad: bool = False) -> int:
        return max(1, min(MAX_ROWS, self.memory_bytes // self.bytes_per_row(inputs, grad=grad)))

    # --- perturbing ---------------------------------------------------------------------------
    def repeat(self, inputs: Inputs, n: int) -> Inputs:
        out = {key: value.expand(n, *value.shape[1:]).clone() for key, value in inputs.items() if key != "pixel_values"}
        out["pixel_values"] = self.repeat_pixels(inputs["pixel_values"], n)
        return out

    def repeat_pixels(self, pixels: torch.Tensor, n: int) -> torch.Tensor:
        return pixels.expand(n, *pixels.shape[1:]).clone()

    def perturb(
        self,
        inputs: Inputs,
        keep_image: torch.Tensor | None = None,
        keep_text: torch.Tensor | None = None,
        fill: float | torch.Tensor | None = None,
    ) -> Inputs:
        """N variants of one example: grid cells / text tokens whose keep flag is False are removed.

        keep_image: (N, cells) bool in grid order; keep_text: (N, text tokens) bool. A removed cell's pixels
        become `fill`: a number, or pixel values shaped like the example's (defaults to the adapter's fill).
        """
        n = (keep_image if keep_image is not None else keep_text).shape[0]
        out = self.repeat(inputs, n)
        if keep_text is not None:
            ids = out["input_ids"]
            positions = self.text_positions(inputs).to(ids.device)
            kept = keep_text.to(ids.device)
            ids[:, positions] = torch.where(
                kept, ids[:, positions], torch.full_like(ids[:, positions], self.text_mask_token)
            )
        if keep_image is not None:
            pixels = out["pixel_values"]
            keep = self.pixel_keep(inputs, keep_image.to(pixels.device)).to(pixels.dtype)
            value = self.image_fill if fill is None else fill
            if isinstance(value, torch.Tensor):
                value = self.repeat_pixels(value.to(pixels.device, pixels.dtype), n)
            out["pixel_values"] = pixels * keep + value * (1 - keep)
        return out

    def pixel_keep(self, inputs: Inputs, keep_image: torch.Tensor) -> torch.Tensor:
        """(N, cells) keep flags as a mask shaped like N repeated pixel values (1 keeps a pixel, 0 removes it)."""
        raise NotImplementedError
