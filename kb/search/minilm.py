"""all-MiniLM-L6-v2's forward pass on plain torch, for the few texts an incremental rebuild embeds.

Why not sentence-transformers here: importing it (and transformers behind it) costs 4-5 s on this class of
machine, which is most of the time a rebuild after one changed record takes; torch alone imports in about
1 s. The model is a stock BERT encoder, which torch ships as `nn.TransformerEncoderLayer` (post-norm, GELU),
so what is written here is only the weight mapping, the embeddings and the pooling sentence-transformers
configures for this model (mean over tokens, then L2 norm). `tests/search/test_minilm.py` holds the two
paths to the same vectors; `kb.search.transformer` picks this one for small batches only, and imports this
module lazily, so torch is loaded only when a text is embedded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


@lru_cache(maxsize=1)
def _load(source: Path) -> tuple[Any, Encoder]:
    """(tokenizer, encoder) read from the sentence-transformers model folder."""
    from safetensors.torch import load_file
    from tokenizers import Tokenizer

    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    limit = int(json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=limit)
    tokenizer.enable_padding(pad_id=int(config["pad_token_id"]))
    weights = load_file(str(source / "model.safetensors"))
    return tokenizer, Encoder(config, weights).eval().requires_grad_(False)


class Encoder(nn.Module):
    """BERT's embeddings and encoder layers, then mean pooling over the real tokens and L2 norm."""

    def __init__(self, config: dict[str, Any], weights: dict[str, torch.Tensor]) -> None:
        super().__init__()
        width, eps = int(config["hidden_size"]), float(config["layer_norm_eps"])
        # Lookup tables, indexed directly: every text is one segment, so only the first segment row is used.
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.segment = weights["embeddings.token_type_embeddings.weight"][0]
        self.norm = nn.LayerNorm(width, eps=eps)
        self.norm.load_state_dict(
            {"weight": weights["embeddings.LayerNorm.weight"], "bias": weights["embeddings.LayerNorm.bias"]}
        )
        self.layers = nn.ModuleList()
        for i in range(int(config["num_hidden_layers"])):
            layer = nn.TransformerEncoderLayer(
                width,
                int(config["num_attention_heads"]),
                int(config["intermediate_size"]),
                dropout=0.0,
                activation="gelu",
                layer_norm_eps=eps,
                batch_first=True,
            )
            layer.load_state_dict(_layer_state(weights, f"encoder.layer.{i}."))
            self.layers.append(layer)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.norm(self.words[ids] + self.positions[: ids.shape[1]] + self.segment)
        padding = mask == 0
        for layer in self.layers:
            hidden = layer(hidden, src_key_padding_mask=padding)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, dim=-1)


def _layer_state(weights: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """One BERT layer's weights under the names `nn.TransformerEncoderLayer` uses."""
    attention = prefix + "attention."
    return {
        "self_attn.in_proj_weight": torch.cat(
            [weights[f"{attention}self.{p}.weight"] for p in ("query", "key", "value")]
        ),
        "self_attn.in_proj_bias": torch.cat([weights[f"{attention}self.{p}.bias"] for p in ("query", "key", "value")]),
        "self_attn.out_proj.weight": weights[attention + "output.dense.weight"],
        "self_attn.out_proj.bias": weights[attention + "output.dense.bias"],
        "norm1.weight": weights[attention + "output.LayerNorm.weight"],
        "norm1.bias": weights[attention + "output.LayerNorm.bias"],
        "linear1.weight": weights[prefix + "intermediate.dense.weight"],
        "linear1.bias": weights[prefix + "intermediate.dense.bias"],
        "linear2.weight": weights[prefix + "output.dense.weight"],
        "linear2.bias": weights[prefix + "output.dense.bias"],
        "norm2.weight": weights[prefix + "output.LayerNorm.weight"],
        "norm2.bias": weights[prefix + "output.LayerNorm.bias"],
    }


def encode(source: Path, texts: Sequence[str], threads: int) -> np.ndarray:
    """L2-normalised mean-pooled vectors of `texts` (float32), as sentence-transformers computes them."""
    torch.set_num_threads(threads)
    tokenizer, encoder = _load(source)
    batch = tokenizer.encode_batch(list(texts))
    ids = torch.tensor([e.ids for e in batch], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in batch], dtype=torch.long)
    with torch.inference_mode():
        vectors = encoder(ids, mask)
    return np.asarray(vectors.numpy(), dtype=np.float32)
