"""Causal interventions: causal tracing / activation patching (arXiv 2202.05262) and attention knockout
across image tokens (arXiv 2406.04236).

Causal tracing corrupts the image tokens' embeddings with Gaussian noise, then restores one cell's clean
hidden state at one layer and measures how much of the answer's probability comes back. As in ROME, the
noise has 3 times the standard deviation of the embeddings over a body of inputs (`fit`; without it, of
this example's image embeddings) and the effect is averaged over 10 noise samples. Knockout cuts the
attention edges from the question to one image token in every layer and measures the drop. Both run
their variants in memory-bounded chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from kb.xai import hooks
from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, resolve_target
from kb.xai.gradients import input_embeddings
from kb.xai.lens import layer_states
from kb.xai.scoring import over_chunks, read, score


@dataclass
class CausalTracing:
    noise: float = 3.0  # noise std as a multiple of the embeddings' std, as in ROME
    samples: int = 10  # ROME's default number of noise samples
    seed: int = 0
    name: str = "causal_tracing"
    paper_id: str = "2202.05262"
    embedding_std: float | None = None  # set by fit(): the std of image-token embeddings over a body of inputs
    _generator: torch.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._generator = torch.Generator().manual_seed(self.seed)

    def fit(self, adapter: Adapter, inputs: Inputs) -> CausalTracing:
        embeds = input_embeddings(adapter, inputs)
        self.embedding_std = float(embeds[inputs["input_ids"] == adapter.image_token_id].float().std())
        return self

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        layout = adapter.layout(inputs)
        corrupt_at = layout.image_positions.to(adapter.device)  # every image token, CLS and overview included
        cells = layout.grid_positions.to(adapter.device)
        clean_embeds = input_embeddings(adapter, inputs)
        clean_states = [clean_embeds, *layer_states(adapter, inputs)]
        std = self.embedding_std if self.embedding_std is not None else float(clean_embeds[0, corrupt_at].float().std())
        effects = torch.zeros(len(clean_states), layout.cells)
        corrupt_total = 0.0
        for _ in range(self.samples):
            noise = torch.randn(len(corrupt_at), clean_embeds.shape[-1], generator=self._generator)
            corrupted = clean_embeds.clone()
            corrupted[0, corrupt_at] = (
                corrupted[0, corrupt_at].float() + self.noise * std * noise.to(adapter.device)
            ).to(corrupted.dtype)
            with hooks.replace_keyword(adapter.language_model, "inputs_embeds", lambda _e, c=corrupted: c):
                corrupt_p = score(adapter, inputs, target)
            corrupt_total += corrupt_p
            for level, clean in enumerate(clean_states):

                def run(
                    start: int,
                    stop: int,
                    level: int = level,
                    clean: torch.Tensor = clean,
                    corrupted: torch.Tensor = corrupted,
                ) -> torch.Tensor:
                    m = stop - start
                    rows, positions = torch.arange(m, device=cells.device), cells[start:stop]

                    def restore(state: torch.Tensor) -> torch.Tensor:
                        state = state.clone()
                        state[rows, positions] = clean[0, positions]
                        return state

                    batch = corrupted.expand(m, -1, -1)
                    with torch.no_grad():
                        if level == 0:
                            with hooks.replace_keyword(
                                adapter.language_model, "inputs_embeds", lambda _e: restore(batch)
                            ):
                                return read(adapter.logits(adapter.repeat(inputs, m)), target, "probability")
                        with (
                            hooks.replace_keyword(adapter.language_model, "inputs_embeds", lambda _e: batch),
                            hooks.replace_output(adapter.decoder_layers[level - 1], restore),
                        ):
                            return read(adapter.logits(adapter.repeat(inputs, m)), target, "probability")

                effects[level] += over_chunks(adapter, inputs, layout.cells, run) - corrupt_p
        effects /= self.samples
        # A cell's score is its strongest indirect effect over the layers (ROME's per-layer heat map, maxed).
        return Explanation(
            self.name,
            target,
            effects.max(0).values.reshape(layout.rows, layout.cols),
            None,
            extras={"per_layer": effects, "corrupted_probability": corrupt_total / self.samples},
        )


@dataclass
class AttentionKnockout:
    name: str = "attention_knockout"
    paper_id: str = "2406.04236"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        layout = adapter.layout(inputs)
        length = inputs["input_ids"].shape[1]
        cells = layout.grid_positions.tolist()
        text_positions = adapter.text_positions(inputs).cpu()
        after_image = int(layout.image_positions.max()) + 1
        base = score(adapter, inputs, target)

        def knocked(cuts: list[tuple[int, int]]) -> torch.Tensor:
            """p(target) with, in row i, every edge from positions >= cuts[i][0] to position cuts[i][1] cut."""
            blocked = torch.zeros(len(cuts), length, length, dtype=torch.bool, device=adapter.device)
            for row, (readers, position) in enumerate(cuts):
                blocked[row, readers:, position] = True
            with torch.no_grad():
                return read(adapter.logits(adapter.repeat(inputs, len(cuts)), blocked=blocked), target, "probability")

        # The question (every token after the image) no longer reads this cell; later tokens no longer read this word.
        image_drop = base - over_chunks(
            adapter, inputs, len(cells), lambda a, b: knocked([(after_image, p) for p in cells[a:b]])
        )
        words = text_positions.tolist()
        text_drop = (
            base - over_chunks(adapter, inputs, len(words), lambda a, b: knocked([(p + 1, p) for p in words[a:b]]))
            if words
            else torch.zeros(0)
        )
        return Explanation(self.name, target, image_drop.reshape(layout.rows, layout.cols), text_drop, text_positions)
