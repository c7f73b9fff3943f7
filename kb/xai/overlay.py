"""From token scores to pixels: which part of the user's image the grid covers, and the overlay PNG.

Qwen2-VL / Qwen2.5-VL resize the whole image to the token grid and LLaVA-NeXT's unpadded grid is the
whole image, so their grid is stretched over it. LLaVA's processor may centre-crop (CLIP's resize and
crop: the grid covers the central square) or pad to a square (the grid covers more than the image); the
box is computed from the image processor's own settings. Signed scores keep their sign (a diverging map
centred on zero); non-negative scores use a sequential map.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Box = tuple[float, float, float, float]  # left, top, right, bottom in the original image's pixels


def _get(size: Any, key: str) -> Any:
    if size is None:
        return None
    return size.get(key) if isinstance(size, dict) else getattr(size, key, None)


def grid_box(family: str, image_processor: Any, width: int, height: int) -> Box:
    if family != "llava":
        return (0.0, 0.0, float(width), float(height))
    if getattr(image_processor, "do_pad", False):
        side = max(width, height)
        return ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    shortest = _get(getattr(image_processor, "size", None), "shortest_edge")
    crop = getattr(image_processor, "crop_size", None)
    if getattr(image_processor, "do_center_crop", False) and shortest and crop is not None:
        scale = shortest / min(width, height)
        crop_w, crop_h = _get(crop, "width") / scale, _get(crop, "height") / scale
        return ((width - crop_w) / 2, (height - crop_h) / 2, (width + crop_w) / 2, (height + crop_h) / 2)
    return (0.0, 0.0, float(width), float(height))


def pixel_scores(scores: np.ndarray, box: Box, width: int, height: int) -> np.ndarray:
    """(height, width) scores: each pixel takes the score of the grid cell over it; NaN outside the grid."""
    rows, cols = scores.shape
    left, top, right, bottom = box
    ys = (np.arange(height) + 0.5 - top) / (bottom - top) * rows
    xs = (np.arange(width) + 0.5 - left) / (right - left) * cols
    out = np.full((height, width), np.nan)
    inside_y, inside_x = (ys >= 0) & (ys < rows), (xs >= 0) & (xs < cols)
    cell_y, cell_x = ys[inside_y].astype(int), xs[inside_x].astype(int)
    out[np.ix_(inside_y, inside_x)] = scores[np.ix_(cell_y, cell_x)]
    return out


def colours(values: np.ndarray, *, signed: bool, limit: float | None = None) -> np.ndarray:
    """RGBA in [0, 1] for scores; `limit` fixes the scale (a shared scale across figures)."""
    from matplotlib import colormaps

    finite = values[np.isfinite(values)]
    if limit is None:
        limit = float(np.abs(finite).max()) if finite.size else 1.0
    limit = limit or 1.0
    if signed:
        rgba = colormaps["RdBu_r"]((np.nan_to_num(values) / limit + 1) / 2)
    else:
        rgba = colormaps["magma"](np.clip(np.nan_to_num(values) / limit, 0, 1))
    rgba[~np.isfinite(values)] = 0.0
    return rgba  # type: ignore[no-any-return]


def render(image: Any, scores: np.ndarray, box: Box, *, alpha: float = 0.55) -> Any:
    """The image with the scores laid over it (a PIL image)."""
    from PIL import Image

    base = np.asarray(image.convert("RGB"), dtype=np.float64) / 255
    height, width = base.shape[:2]
    values = pixel_scores(scores, box, width, height)
    signed = bool(np.nanmin(values) < 0) if np.isfinite(values).any() else False
    rgba = colours(values, signed=signed)
    weight = rgba[..., 3:] * alpha
    blended = base * (1 - weight) + rgba[..., :3] * weight
    return Image.fromarray((blended * 255).round().astype(np.uint8))


def side_by_side(left: Any, right: Any) -> Any:
    from PIL import Image

    out = Image.new("RGB", (left.width + right.width, max(left.height, right.height)), "white")
    out.paste(left, (0, 0))
    out.paste(right, (left.width, 0))
    return out
