"""One page per paper: facts, summary, findings, areas, BibTeX, lineage, citations, related papers.

Every record-derived string goes through `markdown_safety`; the body is one raw HTML block, so
nothing a contributor writes is parsed as Markdown or HTML.
"""

from __future__ import annotations

from kb.export import bibtex_entry
from kb.records import Record
from kb.site import markdown_safety as safe
from kb.site.context import SiteContext, area_doc, method_doc, paper_doc


def render(ctx: SiteContext, record: Record) -> str:
    doc = paper_doc(record.id)
    kb = ctx.kb
    taxonomy = kb.taxonomy
    parts: list[str] = []
    parts.append(f'<h1 class="kb-paper-title">{safe.text(record.title)}</h1>')
    if record.aliases:
        parts.append('<p class="kb-aliases">Also titled: ' + "; ".join(f"<em>{safe.text(a)}</em>" for a in record.aliases) + "</p>")
    facts = [f"<dt>Authors</dt><dd>{safe.text(', '.join(record.authors)) if record.authors else '<em>unknown</em>'}</dd>"]
    when = record.published.isoformat() if record.published else str(record.year)
    facts.append(f"<dt>Year</dt><dd>{safe.text(when)}</dd>")
    if record.venue:
        facts.append(f"<dt>Venue</dt><dd>{safe.text(record.venue)}</dd>")
    links = []
    if record.arxiv_url:
        links.append(safe.link(record.arxiv_url, f"arXiv:{record.arxiv_id}"))
    if record.links.doi:
        links.append(safe.link(safe.doi_url(record.links.doi), f"DOI {record.links.doi}"))
    if record.links.code:
        links.append(safe.link(record.links.code, "code"))
    if record.links.project:
        links.append(safe.link(record.links.project, "project page"))
    if links:
        facts.append("<dt>Links</dt><dd>" + " · ".join(links) + "</dd>")
    for facet in taxonomy.registry:
        if not facet.many and record.values(facet.key):
            facts.append(f"<dt>{safe.text(facet.label)}</dt><dd>{safe.text(facet.name(record.values(facet.key)[0]))}</dd>")
    parts.append('<dl class="kb-facts">' + "".join(facts) + "</dl>")

    chips = [f'<a class="kb-chip kb-chip-area kb-p-{safe.attr(taxonomy.perspective(a))}" href="{ctx.href(doc, area_doc(a))}" data-area="{safe.attr(a)}">{safe.text(taxonomy.path_name(a))}</a>' for a in record.taxonomy]
    facet_chips = [f'<span class="kb-chip kb-chip-{safe.attr(facet.key)}" data-facet="{safe.attr(facet.key)}" title="{safe.attr(facet.label)}">{safe.text(facet.name(value))}</span>'
                   for facet in taxonomy.registry if facet.many for value in record.values(facet.key)]
    parts.append('<div class="kb-chips">' + "".join(chips + facet_chips) + "</div>")

    parts.append("<h2>Summary</h2>")
    parts.append("".join(f"<p>{safe.text(p)}</p>" for p in record.summary.split("\n\n") if p.strip()))
    parts.append("<h2>Findings</h2><ul>" + "".join(f"<li>{safe.text(f)}</li>" for f in record.findings) + "</ul>")
    if record.curators_note:
        # Our view is kept apart from what the paper says, and labelled as ours.
        parts.append('<aside class="kb-curators-note" aria-label="Curators\' note"><h2>Curators\' note</h2>'
                     f"<p>{safe.text(record.curators_note)}</p>"
                     '<p class="kb-note-label">Our reading of why this paper matters, not a claim of the paper.</p></aside>')

    methods = ctx.methods_of(record.id)
    if record.implementation or methods:
        parts.append("<h2>Reference implementation</h2>")
        if methods:
            items = [f'<li><a href="{ctx.href(doc, method_doc(name))}">{safe.text(getattr(ctx.methods[name], "title", name))}</a></li>' for name in methods]
            parts.append('<ul class="kb-methods">' + "".join(items) + "</ul>")
        if record.implementation:
            parts.append(f'<p>Runnable in this project as <code>{safe.text(record.implementation)}</code>.</p>')

    parts.append(_lineage(ctx, doc, record))
    parts.append(_citations(ctx, doc, record))
    parts.append(_related(ctx, doc, record))

    parts.append('<h2>BibTeX</h2><div class="kb-bibtex">'
                 '<button type="button" class="md-button kb-copy" data-copy="kb-bibtex-text" title="Copy BibTeX">Copy</button>'
                 f'<pre><code id="kb-bibtex-text">{safe.text(bibtex_entry(record))}</code></pre></div>')
    if record.sources:
        parts.append('<h2>Sources</h2><ul class="kb-sources">' + "".join(f"<li>{safe.link(s, s)}</li>" for s in record.sources) + "</ul>")
    head = f"---\ntitle: {safe.front_matter_title(record.title)}\nhide: [navigation]\n---\n\n"
    return head + f'<div class="kb-paper" data-paper-id="{safe.attr(record.id)}">\n' + "\n".join(parts) + "\n</div>\n"


def paper_link(ctx: SiteContext, from_doc: str, paper_id: str) -> str:
    record = ctx.kb.records[paper_id]
    return f'<a href="{ctx.href(from_doc, paper_doc(paper_id))}" data-paper-id="{safe.attr(paper_id)}">{safe.text(record.title)}</a> <span class="kb-year">({record.year})</span>'


def _lineage(ctx: SiteContext, doc: str, record: Record) -> str:
    kb = ctx.kb
    relation_name = {k: t.name for k, t in kb.taxonomy.relations.items()}
    on = []
    for edge in record.builds_on:
        if edge.id not in kb.records:
            continue
        note = f' <span class="kb-note">— {safe.text(edge.note)}</span>' if edge.note else ""
        on.append(f'<li><span class="kb-relation">{safe.text(relation_name.get(edge.relation, edge.relation))}</span> {paper_link(ctx, doc, edge.id)}{note}</li>')
    by = []
    for other in sorted(kb.built_on_by(record.id), key=lambda r: (-r.year, r.id)):
        edge = next(e for e in other.builds_on if e.id == record.id)
        by.append(f'<li>{paper_link(ctx, doc, other.id)} <span class="kb-relation">{safe.text(relation_name.get(edge.relation, edge.relation).lower())} this</span></li>')
    out = ['<h2>Lineage</h2><div class="grid cards kb-lineage">']
    out.append("<div><h3>Builds on</h3>" + (f"<ul>{''.join(on)}</ul>" if on else "<p><em>Nothing in the knowledge base.</em></p>") + "</div>")
    out.append("<div><h3>Built on by</h3>" + (f"<ul>{''.join(by)}</ul>" if by else "<p><em>Nothing in the knowledge base yet.</em></p>") + "</div>")
    return "".join(out) + "</div>"


def _citations(ctx: SiteContext, doc: str, record: Record) -> str:
    kb = ctx.kb
    cites = [paper_link(ctx, doc, c) for c in record.cites if c in kb.records]
    cited_by = [paper_link(ctx, doc, r.id) for r in sorted(kb.cited_by(record.id), key=lambda r: (-r.year, r.id))]
    fetched = ctx.citations_fetched is None or record.id in ctx.citations_fetched
    if not fetched and not cited_by:
        return ""  # its references were never read: claiming "Cites (0)" would be wrong
    out = ['<h2>Citations</h2><div class="grid cards kb-citations">']
    if fetched:
        out.append(f"<div><h3>Cites ({len(cites)})</h3>" + (f"<ul>{''.join(f'<li>{c}</li>' for c in cites)}</ul>" if cites else "<p><em>No verified citations inside the knowledge base.</em></p>") + "</div>")
    out.append(f"<div><h3>Cited by ({len(cited_by)})</h3>" + (f"<ul>{''.join(f'<li>{c}</li>' for c in cited_by)}</ul>" if cited_by else "<p><em>Not cited inside the knowledge base yet.</em></p>") + "</div>")
    return "".join(out) + "</div>"


def _related(ctx: SiteContext, doc: str, record: Record) -> str:
    items = [f"<li>{paper_link(ctx, doc, pid)}</li>" for pid, _ in ctx.related.get(record.id, []) if pid in ctx.kb.records and pid != record.id]
    if not items:
        return ""
    return '<h2>Related papers</h2><ul class="kb-related">' + "".join(items) + "</ul>"
