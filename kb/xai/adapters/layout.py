"""Where an example's image tokens sit, and what each one reads: the geometry every method relies on.

A layout is computed per example from the model's own inputs. Methods see the image as a (rows, cols)
grid of cells; each cell is one image token of the language model, and each cell has the rows of the
vision features (Grad-CAM's layer) that make it. Image tokens outside the grid (LLaVA's CLS with
vision_feature_select_strategy="full", LLaVA-NeXT's newline tokens and low-resolution overview) are
listed apart so that whole-image operations still reach them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Layout:
    rows: int
    cols: int
    grid_positions: torch.Tensor  # (rows * cols,) sequence positions of the grid cells, row-major
    image_positions: torch.Tensor  # every image placeholder position, in sequence order
    feature_rows: torch.Tensor  # (rows * cols, k) rows of the flattened vision features that make each cell
    overview_positions: torch.Tensor | None = None  # LLaVA-NeXT: the low-resolution overview tile's tokens
    overview_shape: tuple[int, int] | None = None

    @property
    def cells(self) -> int:
        return self.rows * self.cols
