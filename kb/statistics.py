"""Counts over the knowledge base, shared by `kb stats`, the statistics page and the docs."""

from __future__ import annotations

from collections import Counter

from kb.knowledge_base import KnowledgeBase


def compute(kb: KnowledgeBase) -> dict[str, dict[str, int]]:
    """Papers per area (each area counts the papers below it), year, granularity, modality, contribution."""
    taxonomy = kb.taxonomy
    areas = {area_id: len(kb.in_area(area_id)) for area_id in taxonomy.areas}
    years = Counter(str(r.year) for r in kb)
    return {
        "papers": {"total": len(kb)},
        "area": areas,
        "year": dict(sorted(years.items())),
        "granularity": _ordered(Counter(g for r in kb for g in r.granularity), list(taxonomy.facets["granularity"])),
        "modality": _ordered(Counter(m for r in kb for m in r.modalities), list(taxonomy.facets["modality"])),
        "contribution": _ordered(Counter(r.contribution for r in kb), list(taxonomy.facets["contribution"])),
    }


def _ordered(counts: Counter[str], vocabulary: list[str]) -> dict[str, int]:
    return {term: counts.get(term, 0) for term in vocabulary}
