"""Loading a user's checkpoint (a folder or a hub id) through transformers' Auto classes, offline-friendly.

The config is read first, so an unsupported architecture is refused before any weights load. The
processor comes from AutoProcessor; transformers' Qwen2-VL / Qwen2.5-VL processors also own a video
processor that needs torchvision, and without torchvision the same processor class is assembled from
the checkpoint's image processor, tokenizer and chat template (the image path is transformers' own code).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.xai.adapters import FAMILIES, SUPPORTED, Adapter, UnsupportedModel

DTYPES = ("float32", "bfloat16")
DEVICES = ("cpu", "cuda")


class LoadError(ValueError):
    """The model or its processor cannot be loaded; the message says why."""


@dataclass
class Loaded:
    model: Any
    processor: Any
    adapter: Adapter
    architecture: str
    processor_note: str | None = None  # set when the processor had to be assembled


def architecture(source: str) -> tuple[Any, str]:
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError, KeyError) as exc:
        raise LoadError(f"cannot read a model config from '{source}': {str(exc).splitlines()[0]}") from exc
    for name in getattr(config, "architectures", None) or []:
        if name in FAMILIES:
            return config, name
    found = ", ".join(getattr(config, "architectures", None) or [getattr(config, "model_type", "?")])
    raise UnsupportedModel(f"'{source}' is a {found}; supported architectures: {', '.join(SUPPORTED)}")


def load(
    source: str, *, device: str = "cpu", dtype: str = "float32", eager: bool = False, **adapter_options: Any
) -> Loaded:
    import torch
    from transformers import AutoModelForImageTextToText
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # kb reports its own progress; a bar per load is noise on stderr

    if dtype not in DTYPES:
        raise LoadError(f"unknown dtype '{dtype}' (supported: {', '.join(DTYPES)})")
    if device not in DEVICES:
        raise LoadError(f"unknown device '{device}' (supported: {', '.join(DEVICES)})")
    if device == "cuda" and not torch.cuda.is_available():
        raise LoadError("--device cuda was asked for but torch sees no CUDA device")
    config, name = architecture(source)
    options: dict[str, Any] = {"dtype": getattr(torch, dtype)}
    if eager:
        options["attn_implementation"] = "eager"
    try:
        model = AutoModelForImageTextToText.from_pretrained(source, **options)
    except (OSError, ValueError, RuntimeError) as exc:
        raise LoadError(f"cannot load the weights of '{source}': {str(exc).splitlines()[0]}") from exc
    model = model.to(device).eval()
    processor, note = load_processor(source, config)
    adapter = FAMILIES[name](model, text_mask_token=_mask_token(processor), **adapter_options)
    return Loaded(model, processor, adapter, name, note)


def _mask_token(processor: Any) -> int | None:
    tokenizer = processor.tokenizer
    for token_id in (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    return None


def load_processor(source: str, config: Any) -> tuple[Any, str | None]:
    import transformers

    try:
        return transformers.AutoProcessor.from_pretrained(source), None
    except ImportError as exc:
        if "torchvision" not in str(exc).lower() or config.model_type not in ("qwen2_vl", "qwen2_5_vl"):
            raise LoadError(f"cannot load the processor of '{source}': {str(exc).strip().splitlines()[0]}") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise LoadError(f"cannot load the processor of '{source}': {str(exc).strip().splitlines()[0]}") from exc
    cls = transformers.Qwen2VLProcessor if config.model_type == "qwen2_vl" else transformers.Qwen2_5_VLProcessor
    tokenizer = transformers.AutoTokenizer.from_pretrained(source)
    processor = object.__new__(cls)  # __init__ would insist on the torchvision video processor
    processor.tokenizer = tokenizer
    processor.image_processor = transformers.AutoImageProcessor.from_pretrained(source)
    processor.video_processor = None
    template = Path(source) / "chat_template.jinja"
    processor.chat_template = (
        template.read_text(encoding="utf-8") if template.is_file() else getattr(tokenizer, "chat_template", None)
    )
    processor.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
    processor.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
    processor.image_token_id = tokenizer.convert_tokens_to_ids(processor.image_token)
    processor.video_token_id = tokenizer.convert_tokens_to_ids(processor.video_token)
    return (
        processor,
        "processor assembled from the image processor and tokenizer (torchvision, needed for video, is missing)",
    )
