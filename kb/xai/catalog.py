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
    eager: bool = False  # needs eager attention (weights read, or a 4D mask that other kernels may refuse)
    differences: str = ""  # where and why the implementation departs from the paper (shown on the method page)


METHODS: list[MethodInfo] = [
    MethodInfo(
        "attention_rollout",
        "Attention rollout",
        "2005.00928",
        "kb.xai.attention:AttentionRollout",
        eager=True,
        summary=(
            "Multiplies residual-mixed attention matrices through the layers to estimate how much each input token"
            " flows into the answer."
        ),
        differences=(
            "As in the paper (residual weight 0.5, head mean). Rollout is read from the answer position of the decoder"
            " only; the vision encoder's own attention is not rolled into it."
        ),
    ),
    MethodInfo(
        "raw_attention",
        "Raw attention",
        "2005.00928",
        "kb.xai.attention:RawAttention",
        eager=True,
        summary=(
            "The last decoder layer's attention from the answer position, averaged over heads. The cheapest reading,"
            " and the one most often shown."
        ),
        differences=(
            "Reads the last decoder layer by default (`layer=-1`); which layer holds the lookup differs between models,"
            " and the map does not say."
        ),
    ),
    MethodInfo(
        "attention_relevancy",
        "Gradient-weighted attention relevancy",
        "2103.15679",
        "kb.xai.relevancy:AttentionRelevancy",
        eager=True,
        summary=(
            "Accumulates the positive part of gradient times attention over the layers, so heads that matter for the"
            " answer count more; the map LVLM-Interpret draws."
        ),
        related=("2012.09838", "2404.03118"),
        differences=(
            "Chefer et al.'s rule R <- R + mean_h[(grad * A)+] R on the decoder's attention, without the LRP terms of"
            " 2012.09838 and without the co-attention updates (a decoder-only MLLM has none). The map is accumulated in"
            " float32 whatever the model's dtype."
        ),
    ),
    MethodInfo(
        "integrated_gradients",
        "Integrated gradients",
        "1703.01365",
        "kb.xai.gradients:IntegratedGradients",
        "Integrates gradients along a straight path from the embeddings of an emptied input (patches filled, words"
        " masked) to the real ones; the scores sum to the logit difference.",
        differences=(
            "The baseline is the emptied input (grid cells filled, words masked), not all-zero embeddings: RMSNorm"
            " makes a pre-norm decoder nearly constant along a path from zero, and the zero-baseline attributions did"
            " not add up (completeness error is reported in the table). Midpoint rule, 32 steps, run in memory-bounded"
            " chunks."
        ),
    ),
    MethodInfo(
        "grad_cam",
        "Grad-CAM on the vision encoder",
        "1610.02391",
        "kb.xai.gradients:GradCAM",
        "Weights the vision encoder's patch features by their mean gradient for the answer and keeps the positive"
        " evidence per patch.",
        differences=(
            "Applied to the vision features handed to the projector (LLaVA) or the merger (Qwen), not a CNN's last"
            " convolution. `resolution='channel'` is the paper's pooled weights; `resolution='token'` (row"
            " grad_cam_token in the benchmark) keeps each token's own gradient, because an MLLM's answer can depend on"
            " one patch along a direction the average cancels. Qwen2.5-VL's window order is undone before the map is"
            " laid out."
        ),
    ),
    MethodInfo(
        "occlusion",
        "Occlusion",
        "1311.2901",
        "kb.xai.perturbation:Occlusion",
        "Removes one patch or one word at a time and records how much the answer's probability drops.",
        differences=(
            "Occludes one token-sized cell at a time (no sliding window: the token grid is the natural stride) with a"
            " flat fill in the processor's normalised space, and words with the pad token."
        ),
    ),
    MethodInfo(
        "rise",
        "RISE",
        "1806.07421",
        "kb.xai.perturbation:RISE",
        "Averages hundreds of random patch masks, each weighted by the answer's probability under it.",
        differences=(
            "Masks are drawn per token cell and not upsampled with random shifts (the token grid is already coarse)."
            " 500 masks with keep probability 0.5; the instance's generator advances from example to example and"
            " differs between a method and its control."
        ),
    ),
    MethodInfo(
        "mm_shap",
        "MM-SHAP",
        "2212.08158",
        "kb.xai.shapley:MMSHAP",
        "Sampled Shapley values over patches and words; their absolute sums per modality say how much the answer rests"
        " on the image versus the text.",
        differences=(
            "Balanced players as in the paper: the image is cut into as many rectangular regions as there are text"
            " tokens; sampled permutations (24) of the answer's logit rather than the shap library's Partition"
            " explainer. `balanced=False` gives per-cell values."
        ),
    ),
    MethodInfo(
        "logit_lens",
        "Logit lens on visual tokens",
        "2410.07149",
        "kb.xai.lens:LogitLens",
        "Decodes every image token's hidden state at every layer with the model's own unembedding and asks how strongly"
        " it reads as the answer.",
        differences=(
            "Mean probability of the explained token over the layers for each image token's hidden state; the paper"
            " (2410.07149) studies the per-layer readings, kept in extras['per_layer']."
        ),
    ),
    MethodInfo(
        "tuned_lens",
        "Tuned lens",
        "2303.08112",
        "kb.xai.lens:TunedLens",
        "The logit lens after a learned affine translator per layer, trained so early layers decode like the last one.",
        differences=(
            "One affine translator per layer except the last (whose decoding is the model's output),"
            " identity-initialised, trained with Adam on the KL to the final distribution at every position of a small"
            " batch (the paper trains on a large corpus with SGD). `kb xai explain` fits on the explained example"
            " itself (50 steps)."
        ),
    ),
    MethodInfo(
        "causal_tracing",
        "Causal tracing (activation patching)",
        "2202.05262",
        "kb.xai.patching:CausalTracing",
        "Corrupts the image tokens with noise, restores one token's clean state at one layer, and measures how much of"
        " the answer returns.",
        differences=(
            "Noise of 3 x the standard deviation of image-token embeddings over a batch (ROME: over a text corpus), 10"
            " samples, every image token corrupted, one cell restored at one layer's output at a time; a cell's score"
            " is its largest effect over layers (the full layer x cell map is in extras). ROME's MLP/attention windows"
            " are not traced."
        ),
    ),
    MethodInfo(
        "attention_knockout",
        "Attention knockout across image tokens",
        "2406.04236",
        "kb.xai.patching:AttentionKnockout",
        eager=True,
        summary=(
            "Cuts the attention edges from the question to one image token in every layer and measures the drop in the"
            " answer."
        ),
        differences=(
            "Cuts the edges from every token after the image to one image cell, in every layer at once (the paper also"
            " knocks out windows of layers); needs eager attention for its 4D mask."
        ),
    ),
    MethodInfo(
        "miner_neurons",
        "Modality-specific neurons (MINER-style)",
        "2410.04819",
        "kb.xai.neurons:ModalityNeurons",
        "Ranks MLP neurons by how much more they fire on image tokens than on text, then switches the top few off to"
        " test that they matter.",
        differences=(
            "MINER's simplest importance score (difference of mean absolute activation on image and text tokens); its"
            " other scores and its per-modality ratios are not implemented. The ablation test is MINER's."
        ),
    ),
    MethodInfo(
        "token_activation_map",
        "Token activation map (TAM-style)",
        "2506.23270",
        "kb.xai.activation_map:TokenActivationMap",
        "Reads the model's own logit for the explained token at every image token, removes what earlier context tokens"
        " put there (estimated causal inference), and denoises with a rank Gaussian filter.",
        differences=(
            "Follows the official code: ReLU'd logits of the token at every position, estimated causal inference with"
            " weights from the context positions and a least-squares scale (closed form here), joint min-max"
            " normalisation, rank Gaussian filter 3x3. Multi-round bookkeeping is left to the caller (kb xai explain"
            " explains each target token at its own position)."
        ),
    ),
    MethodInfo(
        "region_search",
        "Greedy region search for sufficiency and necessity (EAGLE-style)",
        "2509.22496",
        "kb.xai.region_search:RegionSearch",
        "Adds image regions one at a time, each the one that most raises how well the chosen regions alone keep the"
        " answer plus how much removing them loses it; black-box.",
        differences=(
            "Regions are grid cells (on large grids about 16 rectangles) instead of superpixels, and the objective is"
            " the unweighted sum of the insight (sufficiency) and necessity scores. A region's score is its place in"
            " the greedy order."
        ),
    ),
    MethodInfo(
        "vcd",
        "Visual contrastive decoding",
        "2311.16922",
        "kb.xai.decoding:VisualContrastiveDecoding",
        "Subtracts the answer given a noised image from the answer given the real one, to favour tokens grounded in the"
        " image.",
        attribution=False,
        differences=(
            "The official code's noise schedule (1000 sigmoid betas between 1e-5 and 5e-3, step 500), alpha 1 and beta"
            " 0.1 as in the paper. It has no map: the benchmark reports accuracies."
        ),
    ),
]

BY_NAME = {method.name: method for method in METHODS}


def primary_implementation(paper_id: str) -> str | None:
    """The implementation a paper record should point to: its first (main) method in METHODS, else one that carries its
    idea."""
    for method in METHODS:
        if method.paper_id == paper_id:
            return method.implementation
    for method in METHODS:
        if paper_id in method.related:
            return method.implementation
    return None
