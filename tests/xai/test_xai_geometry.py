"""Geometry: removing grid cell k changes the pixels of cell k and nothing else, on non-square grids, LLaVA-NeXT
tiles, Qwen2.5-VL windows and LLaVA's CLS token; Grad-CAM reads Qwen2.5-VL's features in grid order."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from kb.xai import overlay, tiny  # noqa: E402
from kb.xai.adapters import for_model  # noqa: E402
from kb.xai.gradients import GradCAM  # noqa: E402
from kb.xai.loading import load  # noqa: E402

from .conftest import example  # noqa: E402


CASES = [("llava", (32, 32), {}), ("llava", (32, 32), {"strategy": "full"}), ("llava_next", (16, 32), {}),
         ("llava_next", (32, 16), {}), ("qwen2_vl", (16, 40), {}), ("qwen2_5_vl", (40, 56), {})]


@pytest.mark.parametrize(("family", "size", "options"), CASES, ids=lambda v: str(v))
def test_removing_cell_k_changes_exactly_the_pixels_of_cell_k(family: str, size: tuple[int, int], options: dict[str, Any]) -> None:
    model, adapter, inputs, _ = example(family, size, **options)
    layout = adapter.layout(inputs)
    assert layout.cells == len(layout.grid_positions) and layout.rows * layout.cols == layout.cells
    if family == "llava_next":
        assert layout.overview_positions is not None and layout.rows != layout.cols  # tiles make a non-square grid
    if options.get("strategy") == "full":
        assert len(layout.image_positions) == layout.cells + 1 and int(layout.image_positions[0]) not in layout.grid_positions.tolist()
    pixels = inputs["pixel_values"]
    for k in sorted({0, layout.cols - 1, layout.cells // 2, layout.cells - 1}):
        keep = torch.ones(1, layout.cells, dtype=torch.bool)
        keep[0, k] = False
        changed = (adapter.perturb(inputs, keep_image=keep, fill=1e3)["pixel_values"] != pixels.expand_as(pixels)).reshape(pixels.shape)
        expected = torch.zeros_like(changed)
        r, c = divmod(k, layout.cols)
        if family == "llava":
            p = 8
            expected[..., r * p : (r + 1) * p, c * p : (c + 1) * p] = True
        elif family == "llava_next":
            side = 2  # tile of 16 pixels, patches of 8
            tile, patch = divmod(int(layout.feature_rows[k, 0]), side * side)
            i, j = divmod(patch, side)
            expected[0, tile, :, i * 8 : (i + 1) * 8, j * 8 : (j + 1) * 8] = True
            assert tile >= 1  # a high-resolution tile, never the overview
        else:  # the k-th run of four patch rows (processor order: token-major)
            expected[4 * k : 4 * k + 4] = True
        assert torch.equal(changed, expected), (family, k)


@pytest.mark.parametrize(("family", "size", "options"), CASES, ids=lambda v: str(v))
def test_painting_the_region_of_cell_k_moves_cell_k_most(family: str, size: tuple[int, int], options: dict[str, Any]) -> None:
    """End to end: the overlay's pixel box for cell k, painted on the user's image and re-processed, changes cell k most."""
    import numpy as np
    from PIL import Image

    model, adapter, inputs, (parts, image) = example(family, size, **options)
    layout = adapter.layout(inputs)
    processor = parts.get("processor") or parts["image_processor"]
    image_processor = getattr(processor, "image_processor", processor)
    box = overlay.grid_box(family, image_processor, image.width, image.height)
    index = np.arange(layout.cells, dtype=float).reshape(layout.rows, layout.cols)
    cell_of_pixel = overlay.pixel_scores(index, box, image.width, image.height)
    for k in sorted({0, layout.cells // 2 + 1, layout.cells - 1}):
        painted = np.asarray(image).copy()
        painted[cell_of_pixel == k] = (255, 0, 255)
        if "processor" in parts:
            again = dict(parts["processor"](images=Image.fromarray(painted), text="<image>\nHi?", return_tensors="pt"))["pixel_values"]
        else:
            again = parts["image_processor"](images=Image.fromarray(painted), return_tensors="pt")["pixel_values"]
        difference = (again - inputs["pixel_values"]).abs().float()
        per_cell = []
        for cell in range(layout.cells):
            keep = torch.ones(1, layout.cells, dtype=torch.bool)
            keep[0, cell] = False
            mask = 1 - adapter.pixel_keep(inputs, keep).float()
            per_cell.append(float((difference * mask).sum()))
        assert int(np.argmax(per_cell)) == k, (family, k, per_cell)


def test_qwen2_5_vl_merger_rows_are_put_back_in_grid_order() -> None:
    """With the encoder blocks silenced, the merger's input is the patch embedding in window order; undone, it is the grid's."""
    model, adapter, inputs, _ = example("qwen2_5_vl", (40, 56))
    visual = model.model.visual
    with torch.no_grad():
        for block in visual.blocks:
            block.attn.proj.weight.zero_()
            block.attn.proj.bias.zero_()
            block.mlp.down_proj.weight.zero_()
            block.mlp.down_proj.bias.zero_()
    seen: dict[str, torch.Tensor] = {}
    visual.patch_embed.register_forward_hook(lambda _m, _a, out: seen.setdefault("embed", out.detach()))
    visual.merger.register_forward_pre_hook(lambda _m, args: seen.setdefault("merger", args[0].detach()))
    with torch.no_grad():
        adapter.logits(inputs)
    order = adapter.vision_feature_order(inputs)
    assert not torch.equal(order, torch.arange(len(order)))  # several windows: the order really differs
    assert torch.allclose(seen["merger"], seen["embed"][order])
    cam = GradCAM(resolution="token").explain(adapter, inputs)
    assert cam.image is not None and cam.image.shape == (5, 7)


@pytest.mark.parametrize("family", ["llava", "qwen2_vl"])
def test_chunks_follow_the_memory_bound_and_change_nothing(family: str) -> None:
    from kb.xai.perturbation import Occlusion

    model, adapter, inputs, _ = example(family, (16, 32))
    wide = Occlusion().explain(adapter, inputs, 7)
    adapter.max_rows_seen = 0
    adapter.memory_bytes = adapter.bytes_per_row(inputs) * 3  # three variants per chunk
    narrow = Occlusion().explain(adapter, inputs, 7)
    assert adapter.max_rows_seen == 3
    assert torch.allclose(wide.image, narrow.image, atol=1e-5) and torch.allclose(wide.text, narrow.text, atol=1e-5)


def test_attention_mask_is_honoured_by_knockout(checkpoints: dict[str, Any]) -> None:
    """Processors return attention_mask; knockout folds it into its 4D mask instead of passing it twice."""
    from kb.xai.patching import AttentionKnockout

    loaded = load(str(checkpoints["llava"]), eager=True)
    import numpy as np
    from PIL import Image

    from kb.xai.explainer import prompt_inputs

    inputs = prompt_inputs(loaded, Image.fromarray(np.zeros((32, 32, 3), dtype="uint8")), "Hi?")
    assert "attention_mask" in inputs
    explanation = AttentionKnockout().explain(loaded.adapter, inputs, 5)
    assert explanation.image is not None and torch.isfinite(explanation.image).all()
