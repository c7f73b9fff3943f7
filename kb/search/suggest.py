"""Suggested taxonomy areas and facet values for a new paper, from its nearest records.

The title and abstract are ranked against the records with the shipped hybrid ranker (no torch); the
NEIGHBOURS best records vote for their labels, each vote weighted by the record's score to the power
SHARPNESS (so the closest records dominate). Models named in
the text (any alias in taxonomy/models.yaml) are added with full confidence. Scores are in [0, 1]: the
share of the neighbours' weight that carries the label. With the discovery model's per-area classifiers
(`kb.search.relevance.AreaSuggester`), an area's score is the mean of their probability and the vote.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kb.facets import Names, name_key
from kb.knowledge_base import KnowledgeBase
from kb.records import Record
from kb.search.ranking import Searcher

if TYPE_CHECKING:
    from kb.search.relevance import AreaSuggester

NEIGHBOURS = 10
SHARPNESS = 4


@dataclass
class Suggestion:
    areas: list[tuple[str, float]] = field(default_factory=list)
    facets: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # facet key -> ranked values


def suggest(
    searcher: Searcher,
    kb: KnowledgeBase,
    title: str,
    abstract: str,
    exclude: str | None = None,
    learned: AreaSuggester | None = None,
) -> Suggestion:
    """Ranked leaf areas and facet values for a paper (best first), from an open searcher (fast when called
    many times). `exclude` leaves one record out, for leave-one-out evaluation. With `learned` (the per-area
    classifiers of the discovery model), an area's score blends their probability with the neighbours' vote."""
    import numpy as np

    text = " ".join(f"{title} {abstract}".split())
    ids = searcher.index.ids
    scores = searcher.scores(text[:4000], "hybrid") if text else np.zeros(len(ids))
    order = [i for i in np.argsort(-scores, kind="stable") if ids[i] != exclude and ids[i] in kb.records][:NEIGHBOURS]
    votes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    total = 0.0
    for i in order:
        weight = max(float(scores[i]), 1e-6) ** SHARPNESS
        total += weight
        for name, values in _labels(kb.records[ids[i]], kb).items():
            for value in values:
                votes[name][value] += weight
    ranked = (
        {
            name: sorted(((v, round(w / total, 3)) for v, w in counts.items()), key=lambda p: -p[1])
            for name, counts in votes.items()
        }
        if total
        else {}
    )
    facets = {facet.key: ranked.get(facet.key, []) for facet in kb.taxonomy.registry}
    for facet in kb.taxonomy.registry:
        if isinstance(facet.vocabulary, Names):
            # A name written in the text is certain; the neighbours' votes follow it.
            mentioned = _named(facet.vocabulary, text)
            facets[facet.key] = [(m, 1.0) for m in mentioned] + [p for p in facets[facet.key] if p[0] not in mentioned]
    areas = ranked.get("areas", [])
    if learned is not None and text:
        areas = _blend(areas, learned.probabilities(text), kb)
    return Suggestion(areas=areas, facets=facets)


def _blend(votes: list[tuple[str, float]], learned: dict[str, float], kb: KnowledgeBase) -> list[tuple[str, float]]:
    """AREA_BLEND x the classifier's probability + the rest x the vote; areas the classifiers do not know (too
    few records when trained, or new since) keep their vote alone."""
    from kb.search.relevance import AREA_BLEND

    voted = dict(votes)
    leaves = [a for a in kb.taxonomy.leaves() if a in voted or a in learned]
    scores = {
        a: AREA_BLEND * learned[a] + (1 - AREA_BLEND) * voted.get(a, 0.0) if a in learned else voted[a] for a in leaves
    }
    return sorted(((a, round(s, 3)) for a, s in scores.items() if s > 0.005), key=lambda p: -p[1])


def _labels(record: Record, kb: KnowledgeBase) -> dict[str, list[str]]:
    return {"areas": list(record.taxonomy), **{f.key: list(record.values(f.key)) for f in kb.taxonomy.registry}}


def _named(names: Names, text: str) -> list[str]:
    """Canonical names whose name or alias appears in the text as a whole word group."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9.\-_]*", text)
    keys: set[str] = set()
    for size in (1, 2, 3):  # an alias may be written with spaces: "LLaVA 1.5", "Qwen VL Chat"
        keys.update(name_key(" ".join(words[i : i + size]).rstrip(".")) for i in range(len(words) - size + 1))
    return [m.name for m in names.models.values() if any(name_key(s) in keys for s in (m.name, *m.aliases))]
