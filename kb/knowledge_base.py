"""A validated knowledge base: the taxonomy and every record, keyed by id."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from kb.records import Record
from kb.taxonomy import Taxonomy
from kb.triage import Triage


@dataclass
class KnowledgeBase:
    taxonomy: Taxonomy
    records: dict[str, Record]
    files: dict[str, Path] = field(default_factory=dict)
    triage: Triage = field(default_factory=lambda: Triage({}))

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records.values())

    def __len__(self) -> int:
        return len(self.records)

    def get(self, paper_id: str) -> Record | None:
        return self.records.get(paper_id)

    def in_area(self, area_id: str) -> list[Record]:
        """Records labelled with the area or any area below it, in the knowledge base's order."""
        return [self.records[paper_id] for paper_id in self._by_area.get(area_id, ())]

    @cached_property
    def _by_area(self) -> dict[str, dict[str, None]]:
        """Each area's record ids, made in one pass (the site asks for every area: 22 scans of 5,000 records)."""
        out: dict[str, dict[str, None]] = {}
        for record in self:
            for label in record.taxonomy:
                for area in (label, *self.taxonomy.ancestors(label)):
                    out.setdefault(area, {})[record.id] = None
        return out

    def built_on_by(self, paper_id: str) -> list[Record]:
        return [r for r in self if any(edge.id == paper_id for edge in r.builds_on)]

    def cited_by(self, paper_id: str) -> list[Record]:
        return [r for r in self if paper_id in r.cites]

    @cached_property
    def record_hashes(self) -> dict[str, str]:
        """Each record's content hash, by id, computed once: the search index's freshness check and the site's
        page keys both need all of them (a knowledge base is not changed once made; records are frozen)."""
        return {record.id: record_hash(record) for record in self}

    def fingerprint(self) -> str:
        """A hash of everything a build depends on: any change to a record or the taxonomy changes it."""
        digest = hashlib.sha256()
        hashes = self.record_hashes
        for paper_id in sorted(hashes):
            digest.update(hashes[paper_id].encode())
        digest.update(json.dumps(taxonomy_data(self.taxonomy), sort_keys=True).encode())
        return digest.hexdigest()


def record_hash(record: Record) -> str:
    return hashlib.sha256(json.dumps(record.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def taxonomy_data(taxonomy: Taxonomy) -> dict[str, object]:
    return {
        "areas": [a.model_dump() for a in taxonomy.areas.values()],
        "relations": [t.model_dump() for t in taxonomy.relations.values()],
        "facets": [
            {
                "key": f.key,
                "field": f.field,
                "label": f.label,
                "many": f.many,
                "required": f.required,
                "max": f.max,
                "in_text": f.in_text,
                "values": {v: f.vocabulary.description(v) for v in f.values()},
                "names": {v: f.name(v) for v in f.values()},
            }
            for f in taxonomy.registry
        ],
    }
