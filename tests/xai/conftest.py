"""Shared xai fixtures: tiny checkpoints of the four families, written once per session by the user's command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FAMILIES = ("llava", "llava_next", "qwen2_vl", "qwen2_5_vl")


@pytest.fixture(scope="session")
def torch_threads() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory: pytest.TempPathFactory, torch_threads: None) -> dict[str, Path]:
    """FAMILY -> folder written by `kb xai tiny-model FAMILY DIR` (run in-process: a subprocess pays ~5 s of imports)."""
    pytest.importorskip("transformers")
    from click.testing import CliRunner

    from kb.cli import app

    root = tmp_path_factory.mktemp("tiny")
    out = {}
    for family in FAMILIES:
        folder = root / family
        result = CliRunner().invoke(app, ["xai", "tiny-model", family, str(folder)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        out[family] = folder
    from kb.xai import tiny

    out["llava_full"] = tiny.save("llava", root / "llava_full", strategy="full")
    return out


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="session")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16x32 image (2:1, so LLaVA-NeXT tiles it and Qwen grids are not square)."""
    import numpy as np
    from PIL import Image

    path = tmp_path_factory.mktemp("image") / "picture.png"
    Image.fromarray((np.random.default_rng(0).random((16, 32, 3)) * 255).astype("uint8")).save(path)
    return path


@pytest.fixture(scope="session")
def env() -> dict[str, str]:
    return _env()


def build(family: str, **kwargs: Any) -> Any:
    from kb.xai import tiny

    return tiny.build(family, **kwargs)


@pytest.fixture(scope="session")
def toy(torch_threads: None) -> Any:
    """The trained LLaVA toy model (seed 0) and its adapter, trained once and cached in the repository's build/xai/."""
    from kb.xai import toy_model
    from kb.xai.benchmark import adapter_for

    model = toy_model.load_or_train(REPO / "build" / "xai", "llava", 0).model
    return model, adapter_for(model)


def example(family: str, size: tuple[int, int], **options: Any) -> tuple[Any, Any, dict[str, Any], Any]:
    """A tiny model, its processor's inputs for a random image of `size` (height, width), the processor and the image."""
    import numpy as np
    from PIL import Image

    from kb.xai import tiny

    model, parts = tiny.build(family, **options)
    image = Image.fromarray((np.random.default_rng(1).random((*size, 3)) * 255).astype("uint8"))
    if "processor" in parts:
        processor = parts["processor"]
        text = "<image>\nHi?"
    else:
        processor = None
        text = "<|vision_start|><|image_pad|><|vision_end|>Hi?"
    if processor is None:
        images = parts["image_processor"](images=image, return_tensors="pt")
        tokens = int(images["image_grid_thw"][0].prod()) // 4
        encoded = parts["tokenizer"](text.replace("<|image_pad|>", "<|image_pad|>" * tokens), return_tensors="pt")
        inputs = {**encoded, **images, "mm_token_type_ids": (encoded["input_ids"] == model.config.image_token_id).int()}
    else:
        inputs = dict(processor(images=image, text=text, return_tensors="pt"))
    return model, _for_model(model), inputs, (parts, image)


def _for_model(model: Any) -> Any:
    from kb.xai.adapters import for_model

    return for_model(model)
