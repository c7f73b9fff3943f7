"""What every generated page needs to know: the knowledge base, the graph, where each page lives, and the
indexes pages look things up in (who cites whom, each author's, venue's and tag's papers), built once."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import networkx as nx

from kb import venues
from kb.identifier import file_stem
from kb.knowledge_base import KnowledgeBase
from kb.records import Lineage, Record
from kb.site.address import doc_url, root_prefix
from kb.site.settings import Settings


def paper_doc(paper_id: str) -> str:
    return f"papers/{file_stem(paper_id)}.md"


def area_doc(area_id: str) -> str:
    return f"areas/{area_id}.md"


def method_doc(name: str) -> str:
    return f"methods/{name}.md"


def slug(text: str) -> str:
    """An address-safe name: 'LLaVA-1.5' -> 'llava-1-5', 'Hervé Jégou' -> 'herve-jegou'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.category(c).startswith("M"))
    out = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return out or "x-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def _unique_slugs(names: list[str]) -> dict[str, str]:
    """A slug per name, in sorted order, numbered when two names share one."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(names):
        base = slug(name)
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        taken.add(candidate)
        out[name] = candidate
    return out


class Fragments(Protocol):
    """Where fragments of HTML made from one record are kept: (kind, paper id, climb to the root) -> HTML."""

    def get(self, key: tuple[str, str, str], /) -> str | None: ...

    def __setitem__(self, key: tuple[str, str, str], html: str, /) -> None: ...


@dataclass
class SiteContext:
    kb: KnowledgeBase
    graph: nx.MultiDiGraph
    related: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    methods: dict[str, Any] = field(default_factory=dict)  # method name -> descriptor (kb.xai.catalog)
    bench: dict[str, Any] = field(default_factory=dict)  # kb.xai.benchmark.ensure_results output
    settings: Settings = field(default_factory=Settings)
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)  # the 2-D map (kb.site.projection)
    citations_fetched: set[str] | None = None  # papers whose references were read (kb.citation_log); None: all

    def href(self, from_doc: str, to_doc: str) -> str:
        return root_prefix(from_doc) + doc_url(to_doc)

    @cached_property
    def inserts(self) -> dict[str, str]:
        """Heavy HTML of mkdocs pages (tables, long lists), by page: put in after the build (`kb.site.shell`)."""
        return {}

    def insert(self, doc: str, html: str) -> str:
        """A placeholder for `html` in the Markdown page `doc`: mkdocs parses every raw HTML tag of a page
        (seconds for a table of thousands of papers), so the heavy part skips it."""
        from kb.site.shell import insert_marker

        self.inserts[doc] = html
        return insert_marker()

    @cached_property
    def rows(self) -> Fragments:
        """Rendered fragments (table rows, links) by (kind, paper id, climb to the root): pages at one depth share
        them. A build keeps them between builds (`kb.site.page_cache.RowCache`)."""
        return {}

    def methods_of(self, paper_id: str) -> list[str]:
        """Methods this paper introduced, then methods that carry its idea (the descriptor's `related`)."""
        own = [name for name, m in self.methods.items() if getattr(m, "paper_id", None) == paper_id]
        carried = [
            name for name, m in self.methods.items() if name not in own and paper_id in getattr(m, "related", ())
        ]
        return own + carried

    # -- indexes, each built once (pages of 5,000 papers must not scan every record per page) ---------------
    @cached_property
    def cited_by(self) -> dict[str, list[Record]]:
        out: dict[str, list[Record]] = defaultdict(list)
        for record in self.kb:
            for cited in record.cites:
                out[cited].append(record)
        return out

    @cached_property
    def built_on_by(self) -> dict[str, list[tuple[Record, Lineage]]]:
        out: dict[str, list[tuple[Record, Lineage]]] = defaultdict(list)
        for record in self.kb:
            for edge in record.builds_on:
                out[edge.id].append((record, edge))
        return out

    @cached_property
    def by_author(self) -> dict[str, list[Record]]:
        out: dict[str, list[Record]] = defaultdict(list)
        for record in self.kb:
            for author in dict.fromkeys(record.authors):
                out[author].append(record)
        return dict(out)

    @cached_property
    def venue_of(self) -> dict[str, venues.Venue]:
        return {r.id: venues.parse(r.venue) for r in self.kb if r.venue}

    @cached_property
    def by_venue(self) -> dict[str, list[Record]]:
        """Papers per venue series ("CVPR", every year)."""
        out: dict[str, list[Record]] = defaultdict(list)
        for record in self.kb:
            if record.id in self.venue_of:
                out[self.venue_of[record.id].series].append(record)
        return dict(out)

    @cached_property
    def by_value(self) -> dict[tuple[str, str], list[Record]]:
        """Papers per facet value: (facet key, value) -> records."""
        out: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for record in self.kb:
            for facet in self.kb.taxonomy.registry:
                for value in record.values(facet.key):
                    out[(facet.key, value)].append(record)
        return dict(out)

    @cached_property
    def _author_slugs(self) -> dict[str, str]:
        return _unique_slugs(list(self.by_author))

    @cached_property
    def _venue_slugs(self) -> dict[str, str]:
        return _unique_slugs(list(self.by_venue))

    @cached_property
    def _value_slugs(self) -> dict[tuple[str, str], str]:
        out = {}
        for facet in self.kb.taxonomy.registry:
            for value, name in _unique_slugs(facet.values()).items():
                out[(facet.key, value)] = name
        return out

    def author_doc(self, name: str) -> str:
        return f"authors/{self._author_slugs[name]}.md"

    def venue_doc(self, series: str) -> str:
        return f"venues/{self._venue_slugs[series]}.md"

    def tag_doc(self, facet_key: str, value: str) -> str:
        return f"tags/{facet_key.replace('_', '-')}/{self._value_slugs[(facet_key, value)]}.md"
