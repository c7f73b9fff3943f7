"""A small curated knowledge base for the upkeep tests: the toy records plus twelve fictitious records on
explaining multimodal models, twelve fictitious triaged papers on other subjects, and a bulk file holding
the titles and abstracts of all of them (our own text; every id, name and paper here is made up)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

# (id, area, title, abstract): in scope.
POSITIVES = [
    (
        "2501.00101",
        "model.neuron",
        "Modality-specific neurons in multimodal language models",
        "We locate neurons in vision-language models that fire only for image tokens and ablate them to show they carry visual information.",
    ),
    (
        "2501.00102",
        "model.token.visual",
        "Where multimodal LLMs look: attention to image tokens across layers",
        "An analysis of attention from text to visual tokens in LVLMs shows most image tokens receive little attention after early layers.",
    ),
    (
        "2501.00103",
        "data.benchmarks",
        "A benchmark of object hallucination in large vision-language models",
        "We build a benchmark that asks vision-language models about objects absent from the image and measure how often they hallucinate.",
    ),
    (
        "2501.00104",
        "model.layer",
        "Probing visual features through the layers of vision-language models",
        "Linear probes on each layer of multimodal LLMs reveal where visual attributes become decodable and where they fade.",
    ),
    (
        "2501.00105",
        "training-inference.inference",
        "Contrastive decoding against hallucination in multimodal LLMs",
        "Contrasting the output distributions with and without the image reduces object hallucination of vision-language models.",
    ),
    (
        "2501.00106",
        "model.layer",
        "A logit lens for vision-language models",
        "Projecting intermediate hidden states of multimodal LLMs to the vocabulary shows when image content turns into words.",
    ),
    (
        "2501.00107",
        "model.embedding",
        "Sparse autoencoders find interpretable concepts in CLIP embeddings",
        "Sparse autoencoders trained on CLIP image embeddings recover concepts that explain vision-language model behaviour.",
    ),
    (
        "2501.00108",
        "model.token.visual",
        "Pruning visual tokens in multimodal LLMs guided by attention",
        "Attention scores identify redundant image tokens in vision-language models; pruning them keeps accuracy and explains token importance.",
    ),
    (
        "2501.00109",
        "model.architecture.analysis",
        "Causal tracing of visual information in multimodal models",
        "Causal interventions on hidden states of vision-language models locate the layers and modules that carry image facts to answers.",
    ),
    (
        "2501.00110",
        "data.benchmarks",
        "Do vision-language models ground their answers? An evaluation of visual grounding",
        "We evaluate whether multimodal LLMs base answers on the relevant image region and find they often answer from language priors.",
    ),
    (
        "2501.00111",
        "model.token.visual-textual",
        "Saliency maps for visual question answering with multimodal LLMs",
        "Gradient saliency over image patches and question words explains which inputs drive vision-language model answers.",
    ),
    (
        "2501.00112",
        "model.embedding",
        "Concept directions in the embedding space of vision-language models",
        "We find linear directions for visual concepts in the embeddings of multimodal LLMs and steer model outputs along them.",
    ),
]
# (id, title, abstract): out of scope.
NEGATIVES = [
    (
        "2501.00201",
        "Graph neural networks for traffic forecasting",
        "Spatio-temporal graph networks predict road traffic speed from sensor data.",
    ),
    (
        "2501.00202",
        "Protein structure prediction with equivariant networks",
        "An equivariant network predicts protein folds from amino acid sequences.",
    ),
    (
        "2501.00203",
        "Variational quantum circuits for combinatorial optimisation",
        "Quantum circuits with trainable gates approximate solutions of graph cut problems.",
    ),
    (
        "2501.00204",
        "Crop yield forecasting from satellite and weather records",
        "Gradient boosting on rainfall and soil data forecasts regional crop yields.",
    ),
    (
        "2501.00205",
        "Compiler autotuning with reinforcement learning",
        "A policy chooses loop transformations that speed up compiled kernels.",
    ),
    (
        "2501.00206",
        "Stock return prediction with transformers on order books",
        "A transformer reads limit order books to forecast short-term price moves.",
    ),
    (
        "2501.00207",
        "Legged robot locomotion learned in simulation",
        "Policies trained in simulation transfer to a quadruped robot walking on rough terrain.",
    ),
    (
        "2501.00208",
        "Code generation benchmarks for large language models",
        "A suite of programming tasks measures how often text-only language models write correct code.",
    ),
    (
        "2501.00209",
        "Weather nowcasting with diffusion models",
        "A diffusion model generates short-term radar precipitation forecasts.",
    ),
    (
        "2501.00210",
        "Federated learning for keyboard next-word prediction",
        "Phones train a next-word model together without sharing typed text.",
    ),
    (
        "2501.00211",
        "Recommender systems with contrastive user embeddings",
        "Contrastive learning of user histories improves item recommendation.",
    ),
    (
        "2501.00212",
        "Speech recognition for low-resource languages",
        "Self-supervised speech models are adapted to languages with little transcribed audio.",
    ),
]
RECORD = """id: '{id}'
title: {title}
year: 2025
links:
  arxiv: '{id}'
taxonomy: [{area}]
modalities: [image, text]
contribution: analysis
summary: >-
  A fictitious paper made for the tests of the upkeep commands. It stands for work that explains how a
  multimodal model uses what it sees, and says nothing about any real paper.
findings:
  - A fictitious finding that is long enough to be accepted.
"""


def make(root: Path) -> Path:
    """Add the fictitious records and triage file to the toy knowledge base at `root`; returns the bulk file."""
    for paper_id, area, title, _ in POSITIVES:
        (root / "papers" / f"{paper_id}.yaml").write_text(
            RECORD.format(id=paper_id, title=json.dumps(title), area=area), encoding="utf-8"
        )
    (root / "curation").mkdir(exist_ok=True)
    lines = ["# Fictitious triage entries for the tests."]
    lines += [f"- {{id: '{i}', title: {json.dumps(t)}, reason: not about multimodal models}}" for i, t, _ in NEGATIVES]
    (root / "curation" / "excluded.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    bulk = root / "bulk.jsonl.gz"
    rows = [{"arxiv_id": i, "title": t, "abstract": a} for i, _, t, a in POSITIVES] + [
        {"arxiv_id": i, "title": t, "abstract": a} for i, t, a in NEGATIVES
    ]
    with gzip.open(bulk, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    return bulk
