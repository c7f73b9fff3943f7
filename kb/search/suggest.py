"""Suggested taxonomy areas and facet values for a new paper, from its nearest records.

The title and abstract are ranked against the records with the shipped hybrid ranker (no torch); the
NEIGHBOURS best records vote for their labels, each vote weighted by the record's score to the power
SHARPNESS (so the closest records dominate). Models named in
the text (any alias in taxonomy/models.yaml) are added with full confidence. Scores are in [0, 1]: the
share of the neighbours' weight that carries the label.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from kb.knowledge_base import KnowledgeBase
from kb.project import Project
from kb.records import Record
from kb.taxonomy import model_key

NEIGHBOURS = 10
SHARPNESS = 4
FACETS = ("granularity", "modalities", "contribution", "method_family", "models_studied")


@dataclass
class Suggestion:
    areas: list[tuple[str, float]] = field(default_factory=list)
    facets: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


def suggest(kb: KnowledgeBase, title: str, abstract: str, project: Project, exclude: str | None = None) -> Suggestion:
    """Ranked leaf areas and facet values for a paper (best first). `exclude` leaves one record out,
    for leave-one-out evaluation."""
    from kb.index import ensure_index
    from kb.search import Searcher

    searcher = Searcher(project, ensure_index(project, kb))
    return suggest_with(searcher, kb, title, abstract, exclude)


def suggest_with(searcher: object, kb: KnowledgeBase, title: str, abstract: str, exclude: str | None = None) -> Suggestion:
    """`suggest` with an already open `kb.search.Searcher` (fast when called many times)."""
    import numpy as np

    from kb.search import Searcher

    assert isinstance(searcher, Searcher)
    text = " ".join(f"{title} {abstract}".split())
    ids = searcher.index.ids
    scores = searcher.scores(text[:4000], "hybrid") if text else np.zeros(len(ids))
    order = [i for i in np.argsort(-scores, kind="stable") if ids[i] != exclude and ids[i] in kb.records][:NEIGHBOURS]
    votes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    total = 0.0
    for i in order:
        weight = max(float(scores[i]), 1e-6) ** SHARPNESS
        total += weight
        for name, values in _labels(kb.records[ids[i]]).items():
            for value in values:
                votes[name][value] += weight
    ranked = {name: sorted(((v, round(w / total, 3)) for v, w in counts.items()), key=lambda p: -p[1])
              for name, counts in votes.items()} if total else {}
    mentioned = _models_named(kb, text)
    models = [(m, 1.0) for m in mentioned] + [p for p in ranked.get("models_studied", []) if p[0] not in mentioned]
    facets = {name: ranked.get(name, []) for name in FACETS}
    facets["models_studied"] = models
    return Suggestion(areas=ranked.get("areas", []), facets=facets)


def _labels(record: Record) -> dict[str, list[str]]:
    return {"areas": list(record.taxonomy), "granularity": list(record.granularity), "modalities": list(record.modalities),
            "contribution": [record.contribution], "method_family": list(record.method_family),
            "models_studied": list(record.models_studied)}


def _models_named(kb: KnowledgeBase, text: str) -> list[str]:
    """Canonical models whose name or alias appears in the text as a whole word group."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9.\-_]*", text)
    found: list[str] = []
    keys: set[str] = set()
    for size in (1, 2, 3):  # an alias may be written with spaces: "LLaVA 1.5", "Qwen VL Chat"
        keys.update(model_key(" ".join(words[i:i + size]).rstrip(".")) for i in range(len(words) - size + 1))
    for model in kb.taxonomy.models.values():
        if any(model_key(s) in keys for s in (model.name, *model.aliases)):
            found.append(model.name)
    return found
