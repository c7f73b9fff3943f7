"""Toy MLLMs trained on the grid task on the CPU: one on the LLaVA architecture, one on the Qwen2-VL one.

Each is a real transformers model built from a config (`LlavaForConditionalGeneration`: CLIP-style ViT,
projector, Llama decoder; `Qwen2VLForConditionalGeneration`: Qwen's ViT with 2x2 patch merging and
multimodal rotary positions), so every method runs through the same adapter a user's checkpoint would.
Training is seeded; the weights are cached in the build folder under a key that covers the recipe, this
code and the library versions, and a cache that does not load is trained again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from kb import atomic
from kb.xai import toy_task

ARCHITECTURES = ("llava", "qwen2_vl")
# 400 steps left the LLaVA toy of seed 1 at 0.80 accuracy (the benchmark needs 0.9); at 800 every seed of both
# architectures reaches 0.998 or more on 512 held-out questions.
TRAIN_STEPS = 800
BATCH = 96
LEARNING_RATE = 3e-3
THREADS = 2
WIDTH = 64
QWEN_PATCH = 4  # 2x2 patches of 4 pixels merge into one token per 8-pixel cell


def config(architecture: str) -> Any:
    import transformers

    text = dict(
        vocab_size=toy_task.VOCAB_SIZE,
        hidden_size=WIDTH,
        intermediate_size=2 * WIDTH,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=64,
        pad_token_id=toy_task.PAD,
        bos_token_id=toy_task.BOS,
        eos_token_id=toy_task.PAD,
        tie_word_embeddings=False,
    )
    if architecture == "llava":
        vision = transformers.CLIPVisionConfig(
            hidden_size=WIDTH,
            intermediate_size=2 * WIDTH,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=toy_task.IMAGE_PIXELS,
            patch_size=toy_task.CELL_PIXELS,
            num_channels=3,
        )
        return transformers.LlavaConfig(
            vision_config=vision,
            text_config=transformers.LlamaConfig(**text),
            image_token_id=toy_task.IMAGE,
            vision_feature_layer=-1,
            vision_feature_select_strategy="default",
            image_seq_length=toy_task.IMAGE_TOKENS,
            projector_hidden_act="gelu",
        )
    if architecture == "qwen2_vl":
        # Multimodal rotary positions split a head's 8 frequencies into time (2), height (3) and width (3), fastest
        # first. With the usual base of 10,000 the width gets the three slowest (0.013 rad at most across the 4
        # columns), so the decoder cannot tell which image token is cell k (Qwen's ViT adds no absolute position)
        # and the toy stayed at chance; with a base of 2 every frequency turns 0.5-1 rad per step. Real
        # checkpoints have 64 frequencies and grids of dozens of tokens; the toy has neither.
        text["rope_parameters"] = {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 2.0}
        return transformers.Qwen2VLConfig(
            text_config=text,
            image_token_id=toy_task.IMAGE,
            video_token_id=toy_task.MASK,
            vision_start_token_id=toy_task.CELL_WORD,
            vision_end_token_id=toy_task.COLOUR_WORD,
            vision_config={
                "depth": 2,
                "embed_dim": WIDTH,
                "hidden_size": WIDTH,
                "num_heads": 4,
                "patch_size": QWEN_PATCH,
                "spatial_merge_size": 2,
                "temporal_patch_size": 2,
                "mlp_ratio": 2,
                "in_channels": 3,
            },
        )
    raise ValueError(f"unknown toy architecture '{architecture}' (known: {', '.join(ARCHITECTURES)})")


def build(architecture: str, seed: int) -> Any:
    """A randomly initialised toy model (eager attention, so attention maps can be read and knocked out)."""
    import transformers

    torch.manual_seed(seed)
    cfg = config(architecture)
    cfg._attn_implementation = "eager"
    cls = (
        transformers.LlavaForConditionalGeneration
        if architecture == "llava"
        else transformers.Qwen2VLForConditionalGeneration
    )
    return cls(cfg).eval()


def patchify(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) images as Qwen2-VL's processor lays them out: merge-group-major rows of 3*2*p*p values."""
    b, c, h, w = images.shape
    p, merge, temporal = QWEN_PATCH, 2, 2
    x = images.reshape(b, c, h // (p * merge), merge, p, w // (p * merge), merge, p)
    x = x.permute(0, 2, 5, 3, 6, 1, 4, 7)  # (B, gh, gw, mh, mw, C, ph, pw)
    x = x[:, :, :, :, :, :, None].expand(*x.shape[:6], temporal, p, p)
    return x.reshape(b * (h // p) * (w // p), c * temporal * p * p)


def inputs(
    architecture: str, batch: toy_task.Batch, pixel_values: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """Model inputs for a batch, in the architecture's own layout."""
    pixels = batch.pixel_values if pixel_values is None else pixel_values
    if architecture == "llava":
        return {"input_ids": batch.input_ids, "pixel_values": pixels}
    side = toy_task.IMAGE_PIXELS // QWEN_PATCH
    return {
        "input_ids": batch.input_ids,
        "pixel_values": patchify(pixels),
        "image_grid_thw": torch.tensor([[1, side, side]]).repeat(len(batch), 1),
        "mm_token_type_ids": (batch.input_ids == toy_task.IMAGE).int(),
    }


def code_version() -> str:
    """Hash of the code and libraries a trained model depends on: part of every cache key."""
    import transformers

    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in ("toy_task.py", "toy_model.py"):
        digest.update((here / name).read_bytes())
    digest.update(f"torch {torch.__version__} transformers {transformers.__version__}".encode())
    return digest.hexdigest()[:16]


def fingerprint(architecture: str, seed: int) -> str:
    """Changes whenever the model or its training would: the cache key."""
    recipe = {
        "config": config(architecture).to_dict(),
        "seed": seed,
        "steps": TRAIN_STEPS,
        "batch": BATCH,
        "lr": LEARNING_RATE,
        "code": code_version(),
    }
    recipe["config"].pop("transformers_version", None)
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:16]


def answer_logits(
    model: Any, architecture: str, batch: toy_task.Batch, pixel_values: torch.Tensor | None = None
) -> torch.Tensor:
    return model(**inputs(architecture, batch, pixel_values)).logits[:, -1]  # type: ignore[no-any-return]


def train(architecture: str, seed: int, steps: int = TRAIN_STEPS, learning_rate: float = LEARNING_RATE) -> Any:
    """Trains on fresh samples every step (the task is infinite, so there is nothing to over-fit)."""
    torch.set_num_threads(min(THREADS, torch.get_num_threads()))
    model = build(architecture, seed)
    model.set_attn_implementation("sdpa")  # faster to train; explanations switch back to eager
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=learning_rate, total_steps=steps, pct_start=0.1)
    for step in range(steps):
        batch = toy_task.sample(BATCH, seed=seed * 1_000_003 + step, blanks=True)
        logits = model(**inputs(architecture, batch)).logits
        # The answer is read at "?"; the same answer predicted at the cell's name is an auxiliary loss that gives the
        # two-hop lookup (name -> cell, then "?" -> name) a direct signal: without it the loss stayed at chance for
        # 1,000 steps. Explanations are still of the readout at "?".
        loss = torch.nn.functional.cross_entropy(logits[:, -1], batch.answer)
        loss = loss + torch.nn.functional.cross_entropy(logits[:, toy_task.CELL_NAME_POSITION], batch.answer)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # a late loss spike once undid a solved task
        optimiser.step()
        schedule.step()
    model.set_attn_implementation("eager")
    return model.eval()


@torch.no_grad()
def accuracy(
    model: Any,
    architecture: str,
    batch: toy_task.Batch,
    pixel_values: torch.Tensor | None = None,
    answer: torch.Tensor | None = None,
) -> float:
    predicted = answer_logits(model, architecture, batch, pixel_values).argmax(-1)
    return float((predicted == (batch.answer if answer is None else answer)).float().mean())


@dataclass(frozen=True)
class Cached:
    model: Any
    trained: bool  # False when re-used from the cache
    fingerprint: str


def load_or_train(folder: Path, architecture: str, seed: int) -> Cached:
    """The trained toy model from `folder`, training and caching it when absent or unusable."""
    key = fingerprint(architecture, seed)
    path = folder / f"toy-{architecture}-{seed}.pt"
    if path.exists():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            if saved.get("fingerprint") == key:
                model = build(architecture, seed)
                model.load_state_dict(saved["state"])
                return Cached(model, False, key)
        except Exception:  # noqa: BLE001, S110 - any unreadable cache is simply rebuilt
            pass
    model = train(architecture, seed)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(path) as temp:
        torch.save({"fingerprint": key, "state": model.state_dict()}, temp)
    return Cached(model, True, key)
