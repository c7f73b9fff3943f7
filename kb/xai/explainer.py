"""`kb xai explain`: one method on one image and prompt of a user's checkpoint, for the target's tokens.

The prompt goes through the processor's chat template with the image placed by kb; the target is the
model's own greedy answer unless given. Each target token is explained at its own position (the
prompt plus the target's earlier tokens), and the maps are averaged over the target's tokens.
Methods that must be fitted (the tuned lens, MINER's neurons, causal tracing's noise scale) are fitted on
the explained example itself: enough to run anywhere; fit them on a corpus through the Python API for
real studies.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.catalog import BY_NAME
from kb.xai.explanation import Explanation
from kb.xai.loading import Loaded

MAX_NEW_TOKENS = 8


class PromptError(ValueError):
    """A prompt or target the processor or model cannot take."""


class UnknownMethod(ValueError):
    pass


@dataclass
class Result:
    method: str
    target_ids: list[int]
    target_tokens: list[str]
    generated: bool  # True when the target is the model's own answer
    image: torch.Tensor | None  # (rows, cols), averaged over the target tokens
    text_positions: list[int]
    text_tokens: list[str]
    text: list[float] | None
    per_token: list[Explanation] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


def method_instance(name: str, options: dict[str, str] | None = None) -> Any:
    """A fresh instance of a catalogued method; `options` set its parameters (e.g. permutations=4), checked by name and
    type."""
    if name not in BY_NAME:
        raise UnknownMethod(f"unknown method '{name}' (known: {', '.join(sorted(BY_NAME))})")
    module, attribute = BY_NAME[name].implementation.split(":")
    cls = getattr(importlib.import_module(module), attribute)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name not in ("name", "paper_id")}
    values: dict[str, Any] = {}
    for key, text in (options or {}).items():
        if key not in fields:
            raise UnknownMethod(f"{name} has no parameter '{key}' (parameters: {', '.join(sorted(fields)) or 'none'})")
        default = fields[key].default
        try:
            values[key] = (
                (text.lower() in ("1", "true", "yes"))
                if isinstance(default, bool)
                else type(default)(text)
                if isinstance(default, (int, float, str))
                else text
            )
        except ValueError as exc:
            raise UnknownMethod(f"{name}: {key}={text!r} is not a {type(default).__name__}") from exc
    return cls(**values)


def prompt_inputs(loaded: Loaded, image: Any, prompt: str) -> Inputs:
    processor = loaded.processor
    tokenizer = processor.tokenizer
    image_token = processor.image_token
    if not prompt.strip():
        raise PromptError("the prompt is empty")
    if image_token in prompt:
        raise PromptError(f"the prompt must not contain the image token {image_token!r}: kb places the image itself")
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
    template = getattr(processor, "chat_template", None)
    if template:
        text = tokenizer.apply_chat_template(
            messages, chat_template=template, tokenize=False, add_generation_prompt=True
        )
    elif loaded.adapter.family.startswith("qwen"):
        text = f"<|vision_start|>{image_token}<|vision_end|>{prompt}"
    else:
        text = f"{image_token}\n{prompt}"
    try:
        batch = processor(images=image, text=text, return_tensors="pt")
    except (ValueError, TypeError, RuntimeError) as exc:
        raise PromptError(f"the processor rejected the prompt: {str(exc).splitlines()[0]}") from exc
    limit = getattr(loaded.model.config.text_config, "max_position_embeddings", None)
    length = int(batch["input_ids"].shape[1])
    if limit is not None and length + MAX_NEW_TOKENS > limit:
        raise PromptError(f"the prompt makes {length} tokens with the image; the model takes at most {limit}")
    return loaded.adapter.prepare(dict(batch))


def extend(inputs: Inputs, tokens: list[int]) -> Inputs:
    """The example followed by `tokens` (the target's earlier tokens), as text."""
    if not tokens:
        return inputs
    ids = inputs["input_ids"]
    extra = torch.tensor([tokens], dtype=ids.dtype, device=ids.device)
    out = dict(inputs)
    out["input_ids"] = torch.cat([ids, extra], 1)
    for key, value in (("attention_mask", 1), ("mm_token_type_ids", 0)):
        if key in inputs:
            out[key] = torch.cat([inputs[key], torch.full_like(extra, value, dtype=inputs[key].dtype)], 1)
    return out


def greedy_answer(adapter: Adapter, inputs: Inputs, stop: set[int], limit: int = MAX_NEW_TOKENS) -> list[int]:
    tokens: list[int] = []
    for _ in range(limit):
        token = adapter.predicted(extend(inputs, tokens))
        if token in stop:
            return tokens or [token]  # an empty answer: explain why the model stops
        tokens.append(token)
    return tokens


def prepare_method(method: Any, adapter: Adapter, inputs: Inputs) -> Any:
    if hasattr(method, "fit"):
        if type(method).__name__ == "TunedLens":
            method.fit(adapter, inputs, steps=50)
        else:
            method.fit(adapter, inputs)
    if hasattr(method, "mine"):
        method.mine(adapter, inputs)
    return method


def explain(
    loaded: Loaded,
    image: Any,
    prompt: str,
    method_name: str,
    *,
    target: str | None = None,
    options: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Result:
    method = method_instance(method_name, options)
    adapter = loaded.adapter
    tokenizer = loaded.processor.tokenizer
    inputs = prompt_inputs(loaded, image, prompt)
    if target is None:
        stop = {t for t in (tokenizer.eos_token_id, tokenizer.pad_token_id) if t is not None}
        ids = greedy_answer(adapter, inputs, stop)
    else:
        ids = tokenizer(target, add_special_tokens=False)["input_ids"]
        if not ids:
            raise PromptError("the target is empty once tokenised")
    words = [tokenizer.decode([t]) for t in ids]
    if method_name == "vcd":
        return _decoding(method, adapter, inputs, ids, words, target is None)
    prepare_method(method, adapter, inputs)
    explanations = []
    for index, token in enumerate(ids):
        if progress is not None:
            progress(f"{method_name}: target token {index + 1}/{len(ids)} {words[index]!r}")
        explanations.append(method.explain(adapter, extend(inputs, ids[:index]), token))
    prompt_positions = adapter.text_positions(inputs).cpu().tolist()
    image = torch.stack([e.image for e in explanations]).mean(0) if explanations[0].image is not None else None
    text = None
    if explanations[0].text is not None:
        rows = []
        for e in explanations:
            where = {int(p): i for i, p in enumerate(e.text_positions.tolist())}
            rows.append([float(e.text[where[p]]) for p in prompt_positions])
        text = torch.tensor(rows).mean(0).tolist()
    ids_row = inputs["input_ids"][0].tolist()
    extras = {k: v for k, v in explanations[0].extras.items() if isinstance(v, (int, float, str))}
    return Result(
        method_name,
        ids,
        words,
        target is None,
        image,
        prompt_positions,
        [tokenizer.decode([ids_row[p]]) for p in prompt_positions],
        text,
        explanations,
        extras,
    )


def _decoding(
    method: Any, adapter: Adapter, inputs: Inputs, ids: list[int], words: list[str], generated: bool
) -> Result:
    """VCD has no map: per target token, the clean, noised and contrastive view of the answer."""
    rows = []
    for index, token in enumerate(ids):
        step = extend(inputs, ids[:index])
        with torch.no_grad():
            clean = adapter.logits(step).float().softmax(-1)[0]
            noisy = (
                adapter.logits({**step, "pixel_values": method.distort(step["pixel_values"])}).float().softmax(-1)[0]
            )
        contrastive = method.logits(adapter, step)[0]
        rows.append(
            {
                "token": words[index],
                "clean_probability": float(clean[token]),
                "noised_probability": float(noisy[token]),
                "contrastive_choice": int(contrastive.argmax()),
                "greedy_choice": int(clean.argmax()),
            }
        )
    return Result("vcd", ids, words, generated, None, [], [], None, [], {"per_token": rows})
