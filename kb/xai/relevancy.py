"""Gradient-weighted attention relevancy for multimodal transformers (Chefer et al., arXiv 2103.15679).

The relevancy map starts as the identity and each layer adds the positive part of gradient x attention,
head-averaged, propagated through the map so far: R <- R + mean_h[(dA * A)+] R. It extends the
attention-gradient idea of arXiv 2012.09838 without its LRP terms, and is what LVLM-Interpret (arXiv
2404.03118) shows for LLaVA. The map is accumulated in float32 on the model's device, whatever the
model's dtype (bfloat16 products of 20+ layers lose the small relevances).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kb.xai.adapters import Adapter, Inputs
from kb.xai.explanation import Explanation, from_sequence, resolve_target


@dataclass
class AttentionRelevancy:
    name: str = "attention_relevancy"
    paper_id: str = "2103.15679"

    def explain(self, adapter: Adapter, inputs: Inputs, target: int | None = None) -> Explanation:
        target = resolve_target(adapter, inputs, target)
        with adapter.eager_attention(), torch.enable_grad():
            output = adapter.run(inputs, output_attentions=True, logits_to_keep=1)
            attentions = list(output.attentions)
            for attention in attentions:
                attention.retain_grad()
            output.logits[0, -1, target].backward()
        length = attentions[0].shape[-1]
        eye = torch.eye(length, device=attentions[0].device)
        relevancy = eye
        for attention in attentions:
            if attention.grad is None:
                continue  # a layer the answer does not depend on
            weighted = (attention.grad[0].float() * attention[0].detach().float()).clamp(min=0).mean(0)
            relevancy = relevancy + weighted @ relevancy
        adapter.model.zero_grad(set_to_none=True)
        # The identity is each token's relevance to itself; what the answer drew from the others is the rest.
        scores = relevancy[-1] - eye[-1]
        return from_sequence(self.name, adapter, inputs, target, scores)
