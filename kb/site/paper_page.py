"""One page per paper: facts with links to the abstract, PDF and code, the tags it carries (each a link to its
page), summary, findings, its neighbourhood (lineage, citations, nearest papers), a citation to copy, and the
repository links to edit the record or report a problem. The <head> carries Highwire `citation_*` tags, so
Zotero and Google Scholar import the paper in one click, and an Open Graph card.

Every record-derived string goes through `markdown_safety`; the page is filled into the theme's shell
(`kb.site.shell`), never parsed as Markdown.
"""

from __future__ import annotations

import html

from kb import export
from kb.identifier import file_stem
from kb.records import Record
from kb.site import markdown_safety as safe
from kb.site import neighbourhood, tables
from kb.site.address import doc_url
from kb.site.context import SiteContext, area_doc, method_doc, paper_doc
from kb.site.descriptions import summary
from kb.site.shell import Page


def render(ctx: SiteContext, record: Record) -> Page:
    doc = paper_doc(record.id)
    taxonomy = ctx.kb.taxonomy
    parts: list[str] = [f'<div class="kb-paper" data-paper-id="{safe.attr(record.id)}">']
    parts.append(f'<h1 class="kb-paper-title">{safe.text(record.title)}</h1>')
    if record.aliases:
        parts.append(
            '<p class="kb-aliases">Also titled: '
            + "; ".join(f"<em>{safe.text(a)}</em>" for a in record.aliases)
            + "</p>"
        )
    facts = [
        "<dt>Authors</dt><dd"
        ' class="kb-authors">'
        f"{tables.authors_html(ctx, doc, record, limit=None) if record.authors else '<em>unknown</em>'}</dd>"
    ]
    when = record.published.isoformat() if record.published else str(record.year)
    facts.append(f"<dt>Posted</dt><dd>{safe.text(when)}</dd>")
    if record.venue:
        facts.append(f"<dt>Venue</dt><dd>{tables.venue_html(ctx, doc, record)}</dd>")
    links = []
    if record.arxiv_id:
        links.append(safe.link(f"https://arxiv.org/abs/{record.arxiv_id}", f"Abstract (arXiv:{record.arxiv_id})"))
        links.append(safe.link(f"https://arxiv.org/pdf/{record.arxiv_id}", "PDF"))
    if record.links.doi:
        links.append(safe.link(safe.doi_url(record.links.doi), f"DOI {record.links.doi}"))
    if record.links.code:
        links.append('<span class="kb-code-link">' + safe.link(record.links.code, "Official code") + "</span>")
    if record.links.project:
        links.append(safe.link(record.links.project, "Project page"))
    if links:
        facts.append('<dt>Links</dt><dd class="kb-links">' + " · ".join(links) + "</dd>")
    for facet in taxonomy.registry:
        values = record.values(facet.key)
        if values:
            facts.append(
                f"<dt>{safe.text(facet.label)}</dt><dd>"
                f"{''.join(tables.chip(ctx, doc, facet.key, v) for v in values)}</dd>"
            )
    parts.append('<dl class="kb-facts">' + "".join(facts) + "</dl>")
    chips = [
        f'<a class="kb-chip kb-chip-area kb-p-{safe.attr(taxonomy.perspective(a))}" href="{ctx.href(doc, area_doc(a))}"'
        f' data-area="{safe.attr(a)}">{safe.text(taxonomy.path_name(a))}</a>'
        for a in record.taxonomy
    ]
    parts.append('<div class="kb-chips" aria-label="Areas">' + "".join(chips) + "</div>")

    parts.append("<h2>Summary</h2>")
    parts.append("".join(f"<p>{safe.text(p)}</p>" for p in record.summary.split("\n\n") if p.strip()))
    parts.append("<h2>Findings</h2><ul>" + "".join(f"<li>{safe.text(f)}</li>" for f in record.findings) + "</ul>")
    if record.curators_note:
        # Our view is kept apart from what the paper says, and labelled as ours.
        parts.append(
            '<aside class="kb-curators-note" aria-label="Curators\' note"><h2>Curators\' note</h2>'
            f"<p>{safe.text(record.curators_note)}</p>"
            '<p class="kb-note-label">Our reading of why this paper matters, not a claim of the paper.</p></aside>'
        )
    parts.append(_implementation(ctx, doc, record))
    parts.append(neighbourhood.section(ctx, doc, record))
    parts.append(_cite(record))
    parts.append(_actions(ctx, record))
    if record.sources:
        parts.append(
            '<h2>Sources</h2><ul class="kb-sources">'
            + "".join(f"<li>{safe.link(s, s)}</li>" for s in record.sources)
            + "</ul>"
        )
    parts.append("</div>")
    description = summary(record.summary)
    return Page(doc, record.title, description, "\n".join(p for p in parts if p), _head(ctx, record, description))


def _implementation(ctx: SiteContext, doc: str, record: Record) -> str:
    methods = ctx.methods_of(record.id)
    if not (record.implementation or methods):
        return ""
    out = ["<h2>Reference implementation</h2>"]
    if methods:
        items = [
            "<li><a"
            f' href="{ctx.href(doc, method_doc(name))}">{safe.text(getattr(ctx.methods[name], "title", name))}</a></li>'
            for name in methods
        ]
        out.append('<ul class="kb-methods">' + "".join(items) + "</ul>")
    if record.implementation:
        module, _, attribute = record.implementation.partition(":")
        source = ctx.settings.source(module.replace(".", "/") + ".py")
        code = f"<code>{safe.text(record.implementation)}</code>"
        shown = (
            f'<a class="kb-source-link" href="{html.escape(source, quote=True)}" rel="noopener">{code}</a>'
            if source
            else code
        )
        out.append(
            f"<p>Runnable in this project as {shown} (the class <code>{safe.text(attribute)}</code> in our source).</p>"
        )
    return "".join(out)


def _cite(record: Record) -> str:
    return (
        '<h2>Cite</h2><div class="kb-bibtex"><div class="kb-cite-tools">'
        '<button type="button" class="md-button kb-copy" data-copy="kb-bibtex-text">Copy BibTeX</button>'
        f'<span class="kb-cite-kind">@{export.bibtex_type(record)}</span></div>'
        f'<pre id="kb-bibtex-text" class="kb-bibtex-text">{safe.text(export.bibtex_entry(record))}</pre></div>'
    )


def _actions(ctx: SiteContext, record: Record) -> str:
    settings = ctx.settings
    if not settings.repo_url:
        return ""
    file = f"papers/{file_stem(record.id)}.yaml"
    body = f"Paper: {record.title} ({record.id})\nRecord: {file}\n\nWhat is wrong or missing:\n"
    edit = settings.edit(file)
    report = settings.new_issue(title=f"Record {record.id}: ", body=body)
    return (
        '<p class="kb-actions">'
        f'<a class="md-button" href="{html.escape(edit, quote=True)}" rel="noopener">Edit this record</a> '
        f'<a class="md-button" href="{html.escape(report, quote=True)}" rel="noopener">Report a problem</a></p>'
    )


def _meta(name: str, content: str) -> str:
    return f'<meta name="{name}" content="{html.escape(content, quote=True)}">'


def _head(ctx: SiteContext, record: Record, description: str) -> str:
    """Highwire Press tags (what Zotero's and Google Scholar's importers read) and an Open Graph card."""
    tags = [_meta("citation_title", record.title)]
    tags += [_meta("citation_author", a) for a in record.authors]
    date = record.published.strftime("%Y/%m/%d") if record.published else str(record.year)
    tags.append(
        _meta(
            "citation_publication_date",
            date if export.bibtex_type(record) == "misc" else str(export.citation_year(record)),
        )
    )
    tags.append(_meta("citation_online_date", date))
    kind = export.bibtex_type(record)
    if kind == "inproceedings":
        tags.append(_meta("citation_conference_title", record.venue or ""))
    elif kind == "article":
        tags.append(_meta("citation_journal_title", ctx.venue_of[record.id].journal or ""))
    if record.arxiv_id:
        tags.append(_meta("citation_arxiv_id", record.arxiv_id))
        tags.append(_meta("citation_abstract_html_url", f"https://arxiv.org/abs/{record.arxiv_id}"))
        tags.append(_meta("citation_pdf_url", f"https://arxiv.org/pdf/{record.arxiv_id}"))
        if kind == "misc":
            tags.append(_meta("citation_technical_report_institution", "arXiv"))
    if record.links.doi:
        tags.append(_meta("citation_doi", record.links.doi))
    address = ctx.settings.absolute(doc_url(paper_doc(record.id)))
    tags += [
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{html.escape(record.title, quote=True)}">',
        f'<meta property="og:description" content="{html.escape(description, quote=True)}">',
    ]
    if ctx.settings.site_url:
        tags.append(f'<meta property="og:url" content="{html.escape(address, quote=True)}">')
    return "\n".join(tags)
