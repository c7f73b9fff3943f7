"""The methods this project implements, as light data (no torch import): the site and the records use it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodInfo:
    name: str  # slug
    title: str
    paper_id: str  # the arXiv id of the record that introduced the method
    implementation: str  # kb.xai.<module>:<Attribute>
    summary: str
    related: tuple[str, ...] = ()  # other records whose idea this implementation carries
    attribution: bool = True  # False for methods with no patch scores (decoding, neuron ablation)


METHODS: list[MethodInfo] = [
    MethodInfo("attention_rollout", "Attention rollout", "2005.00928", "kb.xai.attention:AttentionRollout",
               "Multiplies residual-mixed attention matrices through the layers to estimate how much each input token flows into the answer."),
    MethodInfo("raw_attention", "Raw attention", "2005.00928", "kb.xai.attention:RawAttention",
               "The last decoder layer's attention from the answer position, averaged over heads. The cheapest reading, and the one most often shown."),
    MethodInfo("attention_relevancy", "Gradient-weighted attention relevancy", "2103.15679", "kb.xai.relevancy:AttentionRelevancy",
               "Accumulates the positive part of gradient times attention over the layers, so heads that matter for the answer count more; the map LVLM-Interpret draws.",
               related=("2012.09838", "2404.03118")),
    MethodInfo("integrated_gradients", "Integrated gradients", "1703.01365", "kb.xai.gradients:IntegratedGradients",
               "Integrates gradients along a straight path from the embeddings of an emptied input (patches filled, words masked) to the real ones; the scores sum to the logit difference."),
    MethodInfo("grad_cam", "Grad-CAM on the vision encoder", "1610.02391", "kb.xai.gradients:GradCAM",
               "Weights the vision encoder's patch features by their mean gradient for the answer and keeps the positive evidence per patch."),
    MethodInfo("occlusion", "Occlusion", "1311.2901", "kb.xai.perturbation:Occlusion",
               "Removes one patch or one word at a time and records how much the answer's probability drops."),
    MethodInfo("rise", "RISE", "1806.07421", "kb.xai.perturbation:RISE",
               "Averages hundreds of random patch masks, each weighted by the answer's probability under it."),
    MethodInfo("mm_shap", "MM-SHAP", "2212.08158", "kb.xai.shapley:MMSHAP",
               "Sampled Shapley values over patches and words; their absolute sums per modality say how much the answer rests on the image versus the text."),
    MethodInfo("logit_lens", "Logit lens on visual tokens", "2410.07149", "kb.xai.lens:LogitLens",
               "Decodes every image token's hidden state at every layer with the model's own unembedding and asks how strongly it reads as the answer."),
    MethodInfo("tuned_lens", "Tuned lens", "2303.08112", "kb.xai.lens:TunedLens",
               "The logit lens after a learned affine translator per layer, trained so early layers decode like the last one."),
    MethodInfo("causal_tracing", "Causal tracing (activation patching)", "2202.05262", "kb.xai.patching:CausalTracing",
               "Corrupts the image tokens with noise, restores one token's clean state at one layer, and measures how much of the answer returns."),
    MethodInfo("attention_knockout", "Attention knockout across image tokens", "2406.04236", "kb.xai.patching:AttentionKnockout",
               "Cuts the attention edges from the question to one image token in every layer and measures the drop in the answer."),
    MethodInfo("miner_neurons", "Modality-specific neurons (MINER-style)", "2410.04819", "kb.xai.neurons:ModalityNeurons",
               "Ranks MLP neurons by how much more they fire on image tokens than on text, then switches the top few off to test that they matter."),
    MethodInfo("vcd", "Visual contrastive decoding", "2311.16922", "kb.xai.decoding:VisualContrastiveDecoding",
               "Subtracts the answer given a noised image from the answer given the real one, to favour tokens grounded in the image.", attribution=False),
]

BY_NAME = {method.name: method for method in METHODS}


def primary_implementation(paper_id: str) -> str | None:
    """The implementation a paper record should point to: its first (main) method in METHODS, else one that carries its idea."""
    for method in METHODS:
        if method.paper_id == paper_id:
            return method.implementation
    for method in METHODS:
        if paper_id in method.related:
            return method.implementation
    return None
