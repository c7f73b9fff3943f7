"""A paper's neighbourhood on its page: a diagram drawn at build time (inline SVG, no script) of the papers it
builds on and that build on it, those it cites and that cite it, and the papers nearest to it in meaning,
with each edge drawn in its own style; then the same papers as lists.

The diagram is a ring around the paper: neighbours are placed by kind (lineage, citations, nearest), their
labels outward, 13 px and cut at a word; every node links to its page. Colours and text follow the theme's
CSS variables, so dark mode works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kb.records import Record
from kb.site import markdown_safety as safe
from kb.site.address import root_prefix
from kb.site.context import SiteContext, paper_doc

WIDTH, HEIGHT = 900, 440
RX, RY = 175, 165
MAX_NODES = 16
LABEL_CHARS = 34
# Edge kinds in drawing priority; a pair joined in several ways is drawn as the first.
KINDS = {
    "builds-on": "builds on",
    "built-on-by": "built on by",
    "cites": "cites",
    "cited-by": "cited by",
    "nearest": "nearest in meaning",
}


@dataclass
class _Node:
    paper_id: str
    kinds: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _short(title: str, limit: int = LABEL_CHARS) -> str:
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rsplit(" ", 1)[0].rstrip(" :,;-")
    return cut + "…"


def neighbours(ctx: SiteContext, record: Record) -> list[_Node]:
    kb = ctx.kb
    relation_name = {k: t.name.lower() for k, t in kb.taxonomy.relations.items()}
    nodes: dict[str, _Node] = {}

    def add(paper_id: str, kind: str, note: str = "") -> None:
        if paper_id == record.id or paper_id not in kb.records:
            return
        node = nodes.setdefault(paper_id, _Node(paper_id))
        node.kinds.append(kind)
        if note:
            node.notes.append(note)

    for edge in record.builds_on:
        add(edge.id, "builds-on", relation_name.get(edge.relation, edge.relation))
    for other, edge in ctx.built_on_by.get(record.id, []):
        add(other.id, "built-on-by", relation_name.get(edge.relation, edge.relation))
    for cited in record.cites:
        add(cited, "cites")
    for citing in ctx.cited_by.get(record.id, []):
        add(citing.id, "cited-by")
    for near, _ in ctx.related.get(record.id, []):
        add(near, "nearest")
    order = list(KINDS)
    ranked = sorted(nodes.values(), key=lambda n: min(order.index(k) for k in n.kinds))
    return ranked[:MAX_NODES]


def diagram(ctx: SiteContext, doc: str, record: Record, nodes: list[_Node]) -> str:
    cx, cy = WIDTH / 2, HEIGHT / 2
    taxonomy = ctx.kb.taxonomy
    parts = [
        f'<svg class="kb-neighbourhood" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="kb-nb-title"><title'
        f' id="kb-nb-title">Neighbourhood of {safe.text(record.title)}</title><defs><marker id="kb-arrow" viewBox="0 0'
        ' 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5'
        ' L0,10 z" class="kb-arrow"/></marker></defs>'
    ]
    placed = []
    for i, node in enumerate(nodes):
        angle = -math.pi / 2 + 2 * math.pi * i / max(1, len(nodes))
        placed.append((node, cx + RX * math.cos(angle), cy + RY * math.sin(angle), math.cos(angle)))
    for node, x, y, _ in placed:
        kind = node.kinds[0]
        # Arrows point from the citing or building paper to the one it cites or builds on.
        outward = kind in ("builds-on", "cites")
        x1, y1, x2, y2 = (cx, cy, x, y) if outward else (x, y, cx, cy)
        shorten = 0.0 if kind == "nearest" else 12.0
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        x2 -= (x2 - x1) / length * shorten
        y2 -= (y2 - y1) / length * shorten
        marker = ' marker-end="url(#kb-arrow)"' if kind != "nearest" else ""
        parts.append(
            f'<line class="kb-edge kb-edge-{kind}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{marker}/>'
        )
    for node, x, y, cos in placed:
        other = ctx.kb.records[node.paper_id]
        perspective = taxonomy.perspective(other.taxonomy[0])
        relation = "; ".join(dict.fromkeys([KINDS[k] for k in node.kinds] + node.notes))
        anchor = "start" if cos > 0.15 else "end" if cos < -0.15 else "middle"
        dx = 12 if anchor == "start" else -12 if anchor == "end" else 0
        dy = 4 if anchor != "middle" else (-12 if y < cy else 20)
        parts.append(
            f'<a href="{ctx.href(doc, paper_doc(other.id))}" data-paper-id="{safe.attr(other.id)}"'
            f' class="kb-nb-node"><title>{safe.text(other.title)} ({other.year}): {safe.text(relation)}</title><circle'
            f' class="kb-p-{safe.attr(perspective)}" cx="{x:.1f}" cy="{y:.1f}" r="7"/><text x="{x + dx:.1f}"'
            f' y="{y + dy:.1f}" text-anchor="{anchor}">{safe.text(_short(other.title))} ({other.year})</text></a>'
        )
    parts.append(
        f'<circle class="kb-nb-centre kb-p-{safe.attr(taxonomy.perspective(record.taxonomy[0]))}" cx="{cx}" cy="{cy}"'
        f' r="11"/><text class="kb-nb-centre-label" x="{cx}" y="{cy + 28}"'
        f' text-anchor="middle">{safe.text(_short(record.title, 40))}</text>'
    )
    parts.append("</svg>")
    used = {node.kinds[0] for node in nodes}
    legend = "".join(
        f'<span class="kb-legend-item"><svg width="28" height="10" aria-hidden="true"><line class="kb-edge kb-edge-{k}"'
        f' x1="0" y1="5" x2="28" y2="5"/></svg>{safe.text(label)}</span>'
        for k, label in KINDS.items()
        if k in used
    )
    return (
        f'<figure class="kb-figure kb-nb-figure">{"".join(parts)}<figcaption'
        f' class="kb-legend">{legend}</figcaption></figure>'
    )


def section(ctx: SiteContext, doc: str, record: Record) -> str:
    nodes = neighbours(ctx, record)
    out = ["<h2>Neighbourhood</h2>"]
    if nodes:
        out.append(diagram(ctx, doc, record, nodes))
    out.append(_lineage(ctx, doc, record))
    out.append(_citations(ctx, doc, record))
    out.append(_related(ctx, doc, record))
    return "".join(out)


def _link(ctx: SiteContext, doc: str, paper_id: str) -> str:
    """A link to a paper with its year; the same for every page at one depth, so made once."""
    key = ("link", paper_id, root_prefix(doc))
    cached = ctx.rows.get(key)
    if cached is None:
        other = ctx.kb.records[paper_id]
        cached = (
            f'<a href="{ctx.href(doc, paper_doc(paper_id))}"'
            f' data-paper-id="{safe.attr(paper_id)}">{safe.text(other.title)}</a> <span'
            f' class="kb-year">({other.year})</span>'
        )
        ctx.rows[key] = cached
    return cached


def _lineage(ctx: SiteContext, doc: str, record: Record) -> str:
    kb = ctx.kb
    relation_name = {k: t.name for k, t in kb.taxonomy.relations.items()}
    on = []
    for edge in record.builds_on:
        if edge.id not in kb.records:
            continue
        note = f' <span class="kb-note">— {safe.text(edge.note)}</span>' if edge.note else ""
        on.append(
            f'<li><span class="kb-relation">{safe.text(relation_name.get(edge.relation, edge.relation))}</span>'
            f" {_link(ctx, doc, edge.id)}{note}</li>"
        )
    by = [
        f"<li>{_link(ctx, doc, other.id)} <span"
        f' class="kb-relation">{safe.text(relation_name.get(edge.relation, edge.relation).lower())} this</span></li>'
        for other, edge in sorted(ctx.built_on_by.get(record.id, []), key=lambda pair: (-pair[0].year, pair[0].id))
    ]
    out = ['<h3>Lineage</h3><div class="grid cards kb-lineage">']
    out.append(
        "<div><h4>Builds on</h4>"
        + (f"<ul>{''.join(on)}</ul>" if on else "<p><em>Nothing in the knowledge base.</em></p>")
        + "</div>"
    )
    out.append(
        "<div><h4>Built on by</h4>"
        + (f"<ul>{''.join(by)}</ul>" if by else "<p><em>Nothing in the knowledge base yet.</em></p>")
        + "</div>"
    )
    return "".join(out) + "</div>"


def _citations(ctx: SiteContext, doc: str, record: Record) -> str:
    kb = ctx.kb
    cites = [_link(ctx, doc, c) for c in record.cites if c in kb.records]
    cited_by = [_link(ctx, doc, r.id) for r in sorted(ctx.cited_by.get(record.id, []), key=lambda r: (-r.year, r.id))]
    fetched = ctx.citations_fetched is None or record.id in ctx.citations_fetched
    if not fetched and not cited_by:
        return ""  # its references were never read: claiming "Cites (0)" would be wrong
    out = ['<h3>Citations</h3><div class="grid cards kb-citations">']
    if fetched:
        out.append(
            f"<div><h4>Cites ({len(cites)})</h4>"
            + (
                f"<ul>{''.join(f'<li>{c}</li>' for c in cites)}</ul>"
                if cites
                else "<p><em>No verified citations inside the knowledge base.</em></p>"
            )
            + "</div>"
        )
    out.append(
        f"<div><h4>Cited by ({len(cited_by)})</h4>"
        + (
            f"<ul>{''.join(f'<li>{c}</li>' for c in cited_by)}</ul>"
            if cited_by
            else "<p><em>Not cited inside the knowledge base yet.</em></p>"
        )
        + "</div>"
    )
    return "".join(out) + "</div>"


def _related(ctx: SiteContext, doc: str, record: Record) -> str:
    items = [
        f"<li>{_link(ctx, doc, pid)}</li>"
        for pid, _ in ctx.related.get(record.id, [])
        if pid in ctx.kb.records and pid != record.id
    ]
    if not items:
        return ""
    return '<h3>Nearest in meaning</h3><ul class="kb-related">' + "".join(items) + "</ul>"
