"""Tiny random checkpoints of the four supported families, with a working processor, built offline.

`kb xai tiny-model FAMILY DIR` writes one with save_pretrained, so transformers' Auto classes load it like
any hub checkpoint: the weights and config, a byte-level tokenizer built here with the `tokenizers`
library (every text tokenizes; the chat and image tokens are special tokens), the family's own image
processor (the PIL backend: no torchvision needed) and a chat template. The sizes are chosen to exercise
the geometry: LLaVA-NeXT images of 2:1 make several tiles and a non-square grid, Qwen2.5-VL's window of
2x2 tokens makes several windows, padding included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FAMILIES = ("llava", "llava_next", "qwen2_vl", "qwen2_5_vl")
VOCAB = 320  # 256 byte symbols, the special tokens, room to spare
WIDTH = 32

LLAVA_SPECIALS = ["<unk>", "<pad>", "<s>", "</s>", "<image>"]
QWEN_SPECIALS = [
    "<unk>",
    "<pad>",
    "<s>",
    "</s>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|image_pad|>",
    "<|vision_end|>",
    "<|video_pad|>",
]
LLAVA_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}USER: {% else %}ASSISTANT: {% endif"
    " %}{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>\n{% else %}{{ part['text'] }}{%"
    " endif %}{% endfor %}\n{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ part['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tokenizer(specials: list[str], extra: dict[str, str]) -> Any:
    """A byte-level BPE tokenizer without merges: one token per byte, the special tokens whole."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(specials)}
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[symbol] = len(vocab)
    model = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))  # noqa: S106 - a token, not a password
    model.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    model.decoder = decoders.ByteLevel()
    named = {"unk_token": "<unk>", "pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>"}
    others = [t for t in specials if t not in named.values()]
    return PreTrainedTokenizerFast(
        tokenizer_object=model, **named, additional_special_tokens=others, extra_special_tokens=extra
    )


def _text(cls: Any, **extra: Any) -> Any:
    return dict(
        vocab_size=VOCAB,
        hidden_size=WIDTH,
        intermediate_size=2 * WIDTH,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=1,
        bos_token_id=2,
        eos_token_id=3,
        tie_word_embeddings=False,
        **extra,
    )


def build(family: str, *, seed: int = 0, strategy: str = "default") -> tuple[Any, dict[str, Any]]:
    """A tiny random model (eval mode, float32) and the parts of its processor: tokenizer, image processor, template."""
    import torch
    import transformers

    if family not in FAMILIES:
        raise ValueError(f"unknown family '{family}' (supported: {', '.join(FAMILIES)})")
    torch.manual_seed(seed)
    if family in ("llava", "llava_next"):
        tok = tokenizer(LLAVA_SPECIALS, {"image_token": "<image>"})
        image_token_id = tok.convert_tokens_to_ids("<image>")
        side = 32 if family == "llava" else 16
        vision = transformers.CLIPVisionConfig(
            hidden_size=WIDTH,
            intermediate_size=2 * WIDTH,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=side,
            patch_size=8,
            projection_dim=WIDTH,
        )
        text = transformers.LlamaConfig(**_text(None))
        if family == "llava":
            from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil

            config = transformers.LlavaConfig(
                vision_config=vision,
                text_config=text,
                image_token_id=image_token_id,
                vision_feature_layer=-1,
                vision_feature_select_strategy=strategy,
                image_seq_length=(side // 8) ** 2 + (strategy == "full"),
            )
            model = transformers.LlavaForConditionalGeneration(config)
            images = LlavaImageProcessorPil(size={"shortest_edge": side}, crop_size={"height": side, "width": side})
            processor = transformers.LlavaProcessor(
                image_processor=images,
                tokenizer=tok,
                patch_size=8,
                vision_feature_select_strategy=strategy,
                num_additional_image_tokens=1,
                chat_template=LLAVA_TEMPLATE,
            )
        else:
            from transformers.models.llava_next.image_processing_pil_llava_next import LlavaNextImageProcessorPil

            pinpoints = [[16, 32], [32, 16], [32, 32], [16, 48]]
            config = transformers.LlavaNextConfig(
                vision_config=vision,
                text_config=text,
                image_token_id=image_token_id,
                vision_feature_layer=-1,
                vision_feature_select_strategy="default",
                image_grid_pinpoints=pinpoints,
                image_seq_length=4,
            )
            model = transformers.LlavaNextForConditionalGeneration(config)
            images = LlavaNextImageProcessorPil(
                size={"shortest_edge": side}, crop_size={"height": side, "width": side}, image_grid_pinpoints=pinpoints
            )
            processor = transformers.LlavaNextProcessor(
                image_processor=images,
                tokenizer=tok,
                patch_size=8,
                vision_feature_select_strategy="default",
                num_additional_image_tokens=1,
                chat_template=LLAVA_TEMPLATE,
            )
        return model.eval(), {"processor": processor}
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tok = tokenizer(QWEN_SPECIALS, {"image_token": "<|image_pad|>", "video_token": "<|video_pad|>"})
    ids = {
        name: tok.convert_tokens_to_ids(token)
        for name, token in (
            ("image", "<|image_pad|>"),
            ("video", "<|video_pad|>"),
            ("start", "<|vision_start|>"),
            ("end", "<|vision_end|>"),
        )
    }
    rope = {"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 10000.0}
    common = dict(
        image_token_id=ids["image"],
        video_token_id=ids["video"],
        vision_start_token_id=ids["start"],
        vision_end_token_id=ids["end"],
    )
    if family == "qwen2_vl":
        config = transformers.Qwen2VLConfig(
            text_config=_text(None, rope_parameters=rope),
            vision_config={
                "depth": 2,
                "embed_dim": WIDTH,
                "hidden_size": WIDTH,
                "num_heads": 2,
                "patch_size": 4,
                "spatial_merge_size": 2,
                "temporal_patch_size": 2,
                "mlp_ratio": 2,
            },
            **common,
        )
        model = transformers.Qwen2VLForConditionalGeneration(config)
    else:
        config = transformers.Qwen2_5_VLConfig(
            text_config=_text(None, rope_parameters=rope),
            vision_config={
                "depth": 2,
                "hidden_size": WIDTH,
                "intermediate_size": 2 * WIDTH,
                "num_heads": 2,
                "patch_size": 4,
                "spatial_merge_size": 2,
                "temporal_patch_size": 2,
                "window_size": 16,
                "out_hidden_size": WIDTH,
                "fullatt_block_indexes": [1],
            },
            **common,
        )
        model = transformers.Qwen2_5_VLForConditionalGeneration(config)
    images = Qwen2VLImageProcessorPil(
        patch_size=4, merge_size=2, temporal_patch_size=2, size={"shortest_edge": 8 * 8 * 4, "longest_edge": 8 * 8 * 64}
    )
    return model.eval(), {"tokenizer": tok, "image_processor": images, "chat_template": QWEN_TEMPLATE}


def save(family: str, folder: Path, *, seed: int = 0, strategy: str = "default") -> Path:
    """Writes the checkpoint so that AutoModelForImageTextToText and AutoProcessor load it offline."""
    model, parts = build(family, seed=seed, strategy=strategy)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    if "processor" in parts:
        parts["processor"].save_pretrained(folder)
    else:
        # transformers' Qwen2-VL processor also owns a video processor that needs torchvision; the parts a
        # hub checkpoint holds are written one by one, and kb.xai.loading assembles them when it must.
        parts["tokenizer"].save_pretrained(folder)
        parts["image_processor"].save_pretrained(folder)
        processor_class = "Qwen2VLProcessor" if family == "qwen2_vl" else "Qwen2_5_VLProcessor"
        (folder / "processor_config.json").write_text(
            json.dumps({"processor_class": processor_class}, indent=2) + "\n", encoding="utf-8"
        )
        (folder / "chat_template.jinja").write_text(parts["chat_template"], encoding="utf-8")
    return folder
