"""What every generated page needs to know: the knowledge base, the graph, where each page lives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import networkx as nx

from kb.identifier import file_stem
from kb.knowledge_base import KnowledgeBase


def paper_doc(paper_id: str) -> str:
    return f"papers/{file_stem(paper_id)}.md"


def area_doc(area_id: str) -> str:
    return f"areas/{area_id}.md"


def method_doc(name: str) -> str:
    return f"methods/{name}.md"


def doc_url(doc: str) -> str:
    """The site-relative address of a Markdown page under directory URLs: papers/x.md -> papers/x/."""
    path = PurePosixPath(doc)
    if path.name == "index.md":
        parent = str(path.parent)
        return "" if parent == "." else parent + "/"
    return str(path.with_suffix("")) + "/"


def root_prefix(doc: str) -> str:
    """'../' repeated to climb from a page's address back to the site root."""
    return "../" * doc_url(doc).count("/")


@dataclass
class SiteContext:
    kb: KnowledgeBase
    graph: nx.MultiDiGraph
    related: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    methods: dict[str, Any] = field(default_factory=dict)  # method name -> descriptor (kb.xai.catalog)
    bench: dict[str, Any] = field(default_factory=dict)  # kb.xai.benchmark.ensure_results output
    citations_fetched: set[str] | None = None  # papers whose references were read (kb.citation_log); None: all

    def href(self, from_doc: str, to_doc: str) -> str:
        return root_prefix(from_doc) + doc_url(to_doc)

    def methods_of(self, paper_id: str) -> list[str]:
        """Methods this paper introduced, then methods that carry its idea (the descriptor's `related`)."""
        own = [name for name, m in self.methods.items() if getattr(m, "paper_id", None) == paper_id]
        carried = [name for name, m in self.methods.items() if name not in own and paper_id in getattr(m, "related", ())]
        return own + carried
