"""Causal interventions: causal tracing / activation patching (arXiv 2202.05262) and attention knockout
across image tokens (arXiv 2406.04236).

Causal tracing corrupts the image tokens' embeddings with noise, then restores one token's clean hidden
state at one layer and measures how much of the answer's probability comes back. Knockout cuts the
attention edges from the question to one image token in every layer and measures the drop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kb.xai import hooks
from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, resolve_target
from kb.xai.gradients import input_embeddings
from kb.xai.lens import layer_states


@dataclass
class CausalTracing:
    noise: float = 3.0  # noise std as a multiple of the image embeddings' std, as in ROME
    samples: int = 3
    seed: int = 0
    name: str = "causal_tracing"
    paper_id: str = "2202.05262"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        image_positions = adapter.image_positions(inputs)
        n = len(image_positions)
        clean_embeds = input_embeddings(adapter, inputs)
        clean_states = [clean_embeds, *layer_states(adapter, inputs)]
        generator = torch.Generator().manual_seed(self.seed)
        scale = self.noise * float(clean_embeds[0, image_positions].std())
        batch = adapter.repeat(inputs, n)
        rows_index = torch.arange(n)
        effects = torch.zeros(len(clean_states), n)
        corrupt_total = 0.0
        for _ in range(self.samples):
            corrupted = clean_embeds.clone()
            corrupted[0, image_positions] += scale * torch.randn(n, clean_embeds.shape[-1], generator=generator)
            corrupted = corrupted.expand(n, -1, -1).clone()
            with hooks.replace_keyword(adapter.language_model, "inputs_embeds", lambda _e: corrupted), torch.no_grad():
                corrupt_p = adapter.logits(batch).softmax(-1)[0, target]
                corrupt_total += float(corrupt_p)
                for level, clean in enumerate(clean_states):

                    def restore(state: torch.Tensor, clean: torch.Tensor = clean) -> torch.Tensor:
                        state = state.clone()
                        state[rows_index, image_positions] = clean[0, image_positions]
                        return state

                    if level == 0:
                        restored_input = restore(corrupted)
                        with hooks.replace_keyword(adapter.language_model, "inputs_embeds", lambda _e: restored_input):
                            p = adapter.logits(batch).softmax(-1)[:, target]
                    else:
                        with hooks.replace_output(adapter.decoder_layers[level - 1], restore):
                            p = adapter.logits(batch).softmax(-1)[:, target]
                    effects[level] += p - corrupt_p
        effects /= self.samples
        # A token's score is its strongest indirect effect over the layers (ROME's per-layer heat map, maxed).
        return Explanation(self.name, target, effects.max(0).values.reshape(rows, cols), None,
                           extras={"per_layer": effects, "corrupted_probability": corrupt_total / self.samples})


@dataclass
class AttentionKnockout:
    name: str = "attention_knockout"
    paper_id: str = "2406.04236"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        rows, cols = adapter.grid(inputs)
        length = inputs["input_ids"].shape[1]
        image_positions = adapter.image_positions(inputs)
        text_positions = adapter.text_positions(inputs)
        after_image = int(image_positions.max()) + 1
        with adapter.eager_attention(), torch.no_grad():
            base = adapter.logits(inputs).softmax(-1)[0, target]
            blocked = torch.zeros(len(image_positions), length, length, dtype=torch.bool)
            for row, position in enumerate(image_positions.tolist()):
                blocked[row, after_image:, position] = True  # the question no longer reads this patch
            image_drop = base - adapter.logits(adapter.repeat(inputs, len(image_positions)), blocked=blocked).softmax(-1)[:, target]
            blocked = torch.zeros(len(text_positions), length, length, dtype=torch.bool)
            for row, position in enumerate(text_positions.tolist()):
                blocked[row, position + 1 :, position] = True  # later tokens no longer read this one
            text_drop = base - adapter.logits(adapter.repeat(inputs, len(text_positions)), blocked=blocked).softmax(-1)[:, target]
        return Explanation(self.name, target, image_drop.reshape(rows, cols), text_drop, text_positions)
