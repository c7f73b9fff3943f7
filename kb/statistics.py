"""Counts over the knowledge base, shared by `kb stats`, the statistics page and the docs."""

from __future__ import annotations

from collections import Counter

from kb.knowledge_base import KnowledgeBase


def compute(kb: KnowledgeBase) -> dict[str, dict[str, int]]:
    """Papers per area (each area counts the papers below it), per year, and per value of every facet
    (in vocabulary order; a facet with an open list of names shows only the values in use, most used first)."""
    taxonomy = kb.taxonomy
    areas = {area_id: len(kb.in_area(area_id)) for area_id in taxonomy.areas}
    years = Counter(str(r.year) for r in kb)
    out: dict[str, dict[str, int]] = {"papers": {"total": len(kb)}, "area": areas, "year": dict(sorted(years.items()))}
    for facet in taxonomy.registry:
        counts = Counter(v for r in kb for v in r.values(facet.key))
        if facet.many and len(facet.values()) > 20:
            out[facet.key] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        else:
            out[facet.key] = {value: counts.get(value, 0) for value in facet.values()}
    return out
