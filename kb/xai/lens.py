"""Reading visual tokens in the vocabulary: the logit lens (as applied to image tokens in arXiv 2410.07149)
and the tuned lens (arXiv 2303.08112): one learned affine translator per layer before the last.

Each image token's hidden state after every decoder layer is decoded with the model's own final norm
and unembedding; its score is the mean probability of the explained token over the layers. States are
translated in float32 and handed back to the model's modules in the model's dtype.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from kb.errors import KbError
from kb.xai import hooks
from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, from_sequence, resolve_target


def layer_states(adapter: Adapter, inputs: Inputs) -> list[torch.Tensor]:
    """Each decoder layer's output (B, S, D), before the final norm."""
    with hooks.capture_outputs(list(adapter.decoder_layers)) as seen, torch.no_grad():
        adapter.run(inputs, logits_to_keep=1)
    return [(out[0] if isinstance(out, tuple) else out).detach() for out in seen]


def decode(adapter: Adapter, state: torch.Tensor) -> torch.Tensor:
    """Logits (float32) of a hidden state, through the model's own final norm and unembedding."""
    return adapter.lm_head(adapter.final_norm(state.to(adapter.dtype))).float()  # type: ignore[no-any-return]


@dataclass
class LogitLens:
    name: str = "logit_lens"
    paper_id: str = "2410.07149"

    def translate(self, layer: int, state: torch.Tensor) -> torch.Tensor:
        return state

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        states = layer_states(adapter, inputs)
        with torch.no_grad():
            probs = torch.stack(
                [decode(adapter, self.translate(i, s))[0].softmax(-1)[:, target] for i, s in enumerate(states)]
            )
        return from_sequence(self.name, adapter, inputs, target, probs.mean(0), per_layer=probs.cpu())


@dataclass
class TunedLens(LogitLens):
    """The logit lens after a learned affine map per layer, trained so each layer's decoding matches the final one.

    As in the paper, the last layer has no translator (its decoding is the model's output) and every
    earlier layer has its own, initialised to the identity and trained on the KL divergence to the model's
    final distribution at every position.
    """

    name: str = "tuned_lens"
    paper_id: str = "2303.08112"
    translators: nn.ModuleList | None = field(default=None, repr=False)

    def translate(self, layer: int, state: torch.Tensor) -> torch.Tensor:
        if self.translators is None:
            raise KbError("the tuned lens must be fitted (TunedLens.fit) before it explains")
        if layer == len(self.translators) or layer == -1:
            return state  # the last layer: the model's own decoding
        translator = self.translators[layer]
        state = state.to(translator.weight.device, torch.float32)
        return state + translator(state)  # type: ignore[no-any-return]

    def fit(
        self, adapter: Adapter, inputs: Inputs, steps: int = 150, learning_rate: float = 1e-2, seed: int = 0
    ) -> TunedLens:
        """Trains the translators on a batch of inputs: KL from the model's final distribution, at every position."""
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        states = layer_states(adapter, inputs)
        width = states[0].shape[-1]
        self.translators = nn.ModuleList(nn.Linear(width, width) for _ in states[:-1]).to(adapter.device)
        for translator in self.translators:
            nn.init.zeros_(translator.weight)  # start as the logit lens
            nn.init.zeros_(translator.bias)
        with torch.no_grad():
            final = decode(adapter, states[-1]).log_softmax(-1)
        optimiser = torch.optim.Adam(self.translators.parameters(), lr=learning_rate)
        for _ in range(steps):
            loss = sum(
                nn.functional.kl_div(
                    decode(adapter, self.translate(i, s)).log_softmax(-1), final, log_target=True, reduction="batchmean"
                )
                for i, s in enumerate(states[:-1])
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        adapter.model.zero_grad(set_to_none=True)
        torch.random.set_rng_state(generator_state)
        return self
