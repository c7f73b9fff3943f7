"""Adapters: what the methods need to know about a model family, behind one interface (`base.Adapter`).

Four families are supported, chosen by the model's class: LLaVA, LLaVA-NeXT (anyres tiles), Qwen2-VL and
Qwen2.5-VL (window order undone). Each module says how that family's image tokens map to the grid, the
vision features and the pixels.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from kb.xai.adapters.base import Adapter, Inputs
from kb.xai.adapters.layout import Layout
from kb.xai.adapters.llava import LlavaAdapter
from kb.xai.adapters.llava_next import LlavaNextAdapter
from kb.xai.adapters.qwen2_vl import Qwen2_5VLAdapter, Qwen2VLAdapter

FAMILIES: dict[str, type[Adapter]] = {
    adapter.model_class: adapter for adapter in (LlavaAdapter, LlavaNextAdapter, Qwen2VLAdapter, Qwen2_5VLAdapter)
}
SUPPORTED = tuple(FAMILIES)

__all__ = [
    "FAMILIES",
    "SUPPORTED",
    "Adapter",
    "Inputs",
    "Layout",
    "LlavaAdapter",
    "LlavaNextAdapter",
    "Qwen2VLAdapter",
    "Qwen2_5VLAdapter",
    "UnsupportedModel",
    "for_model",
]


class UnsupportedModel(ValueError):
    """A model whose class has no adapter."""


def for_model(model: nn.Module, **kwargs: Any) -> Adapter:
    """The adapter for a model, chosen by its class (a subclass of a supported class counts as that class)."""
    for cls in type(model).__mro__:
        if cls.__name__ in FAMILIES:
            return FAMILIES[cls.__name__](model, **kwargs)
    raise UnsupportedModel(f"no adapter for {type(model).__name__} (supported: {', '.join(SUPPORTED)})")
