"""A tiny LLaVA-style model (CLIP-style ViT, projector, Llama decoder) trained on the grid task on the CPU.

It is a real `transformers.LlavaForConditionalGeneration` built from a config, so every method runs
through the same adapter a user's checkpoint would. Training is seeded and the weights are cached in the
build folder; a cache that does not load (corrupt, other config) is trained again.
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

SEED = 7
TRAIN_STEPS = 300
BATCH = 128
LEARNING_RATE = 2e-3
THREADS = 2


def config() -> Any:
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    vision = CLIPVisionConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        image_size=toy_task.IMAGE_PIXELS, patch_size=toy_task.CELL_PIXELS, num_channels=3,
    )
    text = LlamaConfig(
        vocab_size=toy_task.VOCAB_SIZE, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64,
        pad_token_id=toy_task.PAD, bos_token_id=toy_task.BOS, eos_token_id=toy_task.PAD, tie_word_embeddings=False,
    )
    return LlavaConfig(
        vision_config=vision, text_config=text, image_token_id=toy_task.IMAGE, vision_feature_layer=-1,
        vision_feature_select_strategy="default", image_seq_length=toy_task.IMAGE_TOKENS, projector_hidden_act="gelu",
    )


def build(seed: int) -> Any:
    """A randomly initialised toy model (eager attention, so attention maps can be read and knocked out)."""
    from transformers import LlavaForConditionalGeneration

    torch.manual_seed(seed)
    cfg = config()
    cfg._attn_implementation = "eager"
    model = LlavaForConditionalGeneration(cfg)
    return model.eval()


def fingerprint() -> str:
    """Changes whenever the model or its training would: the cache key."""
    recipe = {"config": config().to_dict(), "seed": SEED, "steps": TRAIN_STEPS, "batch": BATCH, "lr": LEARNING_RATE,
              "task": [toy_task.GRID, toy_task.CELL_PIXELS, toy_task.NOISE, len(toy_task.PALETTE)]}
    recipe["config"].pop("transformers_version", None)
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:16]


def answer_logits(model: Any, batch: toy_task.Batch) -> torch.Tensor:
    return model(**batch.inputs()).logits[:, -1]


def train(seed: int = SEED, steps: int = TRAIN_STEPS, learning_rate: float = LEARNING_RATE) -> Any:
    """Trains on fresh samples every step (the task is infinite, so there is nothing to over-fit)."""
    torch.set_num_threads(min(THREADS, torch.get_num_threads()))
    model = build(seed)
    model.set_attn_implementation("sdpa")  # faster to train; explanations switch back to eager
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=learning_rate, total_steps=steps, pct_start=0.1)
    for step in range(steps):
        batch = toy_task.sample(BATCH, seed=seed * 1_000_003 + step)
        loss = torch.nn.functional.cross_entropy(answer_logits(model, batch), batch.answer)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # a late loss spike once undid a solved task
        optimiser.step()
        schedule.step()
    model.set_attn_implementation("eager")
    return model.eval()


@torch.no_grad()
def accuracy(model: Any, batch: toy_task.Batch) -> float:
    return float((answer_logits(model, batch).argmax(-1) == batch.answer).float().mean())


@torch.no_grad()
def occluded_accuracy(model: Any, batch: toy_task.Batch) -> float:
    """Accuracy when the named cell is covered: a model that uses the evidence falls to chance."""
    pixels = toy_task.occlude_cells(batch.pixel_values, batch.cell)
    logits = model(input_ids=batch.input_ids, pixel_values=pixels).logits[:, -1]
    return float((logits.argmax(-1) == batch.answer).float().mean())


@dataclass(frozen=True)
class Cached:
    model: Any
    trained: bool  # False when re-used from the cache


def load_or_train(folder: Path) -> Cached:
    """The trained toy model from `folder/toy_model.pt`, training and caching it when absent or unusable."""
    path = folder / "toy_model.pt"
    key = fingerprint()
    if path.exists():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            if saved.get("fingerprint") == key:
                model = build(SEED)
                model.load_state_dict(saved["state"])
                return Cached(model, trained=False)
        except Exception:  # noqa: BLE001 - any unreadable cache is simply rebuilt
            pass
    model = train()
    with atomic.replacing(path) as temp:
        torch.save({"fingerprint": key, "state": model.state_dict()}, temp)
    return Cached(model, trained=True)
