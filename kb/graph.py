"""The citation and lineage graph of the knowledge base (networkx).

Nodes are papers; an edge u -> v means "u cites v" (kind `cites`) or "u builds on v" (kind `lineage`,
with the curated relation). Both kinds can join the same pair, so the graph is a MultiDiGraph.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from kb.knowledge_base import KnowledgeBase

CITES = "cites"
LINEAGE = "lineage"


def build(kb: KnowledgeBase) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for record in kb:
        perspectives = sorted(
            {kb.taxonomy.perspective(area) for area in record.taxonomy}, key=list(kb.taxonomy.roots()).index
        )
        graph.add_node(
            record.id,
            title=record.title,
            year=record.year,
            perspective=perspectives[0],
            perspectives=perspectives,
            areas=list(record.taxonomy),
        )
    for record in kb:
        for cited in record.cites:
            if cited in kb.records:
                graph.add_edge(record.id, cited, key=CITES, kind=CITES)
        for edge in record.builds_on:
            if edge.id in kb.records:
                graph.add_edge(record.id, edge.id, key=LINEAGE, kind=LINEAGE, relation=edge.relation, note=edge.note)
    return graph


def ancestors_by_lineage(graph: nx.MultiDiGraph, paper_id: str) -> list[str]:
    """Papers this one builds on, directly or through others, nearest first."""
    lineage = _lineage_view(graph)
    lengths = nx.single_source_shortest_path_length(lineage, paper_id)
    return [p for p, _ in sorted(lengths.items(), key=lambda kv: (kv[1], kv[0])) if p != paper_id]


def descendants_by_lineage(graph: nx.MultiDiGraph, paper_id: str) -> list[str]:
    """Papers that build on this one, directly or through others, nearest first."""
    lineage = _lineage_view(graph).reverse(copy=False)
    lengths = nx.single_source_shortest_path_length(lineage, paper_id)
    return [p for p, _ in sorted(lengths.items(), key=lambda kv: (kv[1], kv[0])) if p != paper_id]


def _lineage_view(graph: nx.MultiDiGraph) -> nx.DiGraph:
    view = nx.DiGraph()
    view.add_nodes_from(graph.nodes)
    view.add_edges_from((u, v) for u, v, kind in graph.edges(data="kind") if kind == LINEAGE)
    return view


def cytoscape_elements(graph: nx.MultiDiGraph, url_of: dict[str, str]) -> list[dict[str, Any]]:
    """Nodes and edges in cytoscape.js's element format; `url_of` maps a paper id to its page (site-relative)."""
    degree = dict(graph.degree())
    elements: list[dict[str, Any]] = []
    for node, data in graph.nodes(data=True):
        elements.append(
            {
                "data": {
                    "id": node,
                    "label": data["title"],
                    "year": data["year"],
                    "perspective": data["perspective"],
                    "url": url_of[node],
                    "degree": degree.get(node, 0),
                }
            }
        )
    for u, v, data in graph.edges(data=True):
        kind = data["kind"]
        element = {"id": f"{kind}:{u}->{v}", "source": u, "target": v, "kind": kind}
        if kind == LINEAGE:
            element["relation"] = data["relation"]
        elements.append({"data": element})
    return elements
