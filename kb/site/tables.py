"""Paper lists on the site: the sortable, filterable table of an area page and the by-year list of a tag page.

Columns: year, title, authors, venue, code, then one per facet of the registry (`taxonomy/facets.yaml`), in
declaration order; every cell that names something links to its page. Each cell carries `data-sort` (what
the column sorts by) and `data-label` (its heading, shown beside the value when a phone lays rows out as
cards); each row carries the facet values for the filters. Behaviour lives in site/assets/kb-site.js: sort on
every column, a title filter, facet filters, the count shown beside them with a reset, all kept in the address.
"""

from __future__ import annotations

from collections import defaultdict

from kb.records import Record
from kb.site import markdown_safety as safe
from kb.site.address import root_prefix
from kb.site.context import SiteContext, paper_doc

AUTHORS_SHOWN = 3


def authors_html(ctx: SiteContext, doc: str, record: Record, limit: int | None = AUTHORS_SHOWN) -> str:
    names = record.authors if limit is None else record.authors[:limit]
    links = [f'<a href="{ctx.href(doc, ctx.author_doc(a))}">{safe.text(a)}</a>' for a in names]
    more = len(record.authors) - len(names)
    return ", ".join(links) + (
        f' <span class="kb-more" title="{safe.attr(", ".join(record.authors))}">+{more}</span>' if more > 0 else ""
    )


def venue_html(ctx: SiteContext, doc: str, record: Record) -> str:
    venue = ctx.venue_of.get(record.id)
    if venue is None:
        return ""
    return f'<a href="{ctx.href(doc, ctx.venue_doc(venue.series))}">{safe.text(record.venue)}</a>'


def chip(ctx: SiteContext, doc: str, facet_key: str, value: str, labelled: bool = True) -> str:
    """A facet value as a link to its tag page (`labelled`: with the facet's name as a tooltip; tables, which
    name the facet in the column heading, leave it out to stay light)."""
    facet = ctx.kb.taxonomy.facet(facet_key)
    extra = f' data-facet="{safe.attr(facet.key)}" title="{safe.attr(facet.label)}"' if labelled else ""
    return (
        f'<a class="kb-chip kb-chip-{safe.attr(facet.key)}"{extra} '
        f'href="{ctx.href(doc, ctx.tag_doc(facet.key, value))}">{safe.text(facet.name(value))}</a>'
    )


def code_html(record: Record) -> str:
    if record.links.code:
        return safe.link(record.links.code, "code")
    return ""


def papers_table(ctx: SiteContext, doc: str, records: list[Record]) -> str:
    """The table with its filters; `records` in the default order (newest first)."""
    registry = list(ctx.kb.taxonomy.registry)
    head = [("year", "Year"), ("title", "Title"), ("authors", "Authors"), ("venue", "Venue"), ("code", "Code")]
    head += [(f.key, f.label) for f in registry]
    cells_head = "".join(
        f'<th data-column="{safe.attr(key)}" aria-sort="{"descending" if key == "year" else "none"}">'
        f'<button type="button" class="kb-sort" data-sort="{safe.attr(key)}">{safe.text(label)}</button></th>'
        for key, label in head
    )
    rows = []
    prefix = root_prefix(doc)
    for r in records:
        cached = ctx.rows.get(("row", r.id, prefix))
        if cached is not None:
            rows.append(cached)
            continue
        data = " ".join(
            f'data-{safe.attr(f.key.replace("_", "-"))}="{safe.attr(" ".join(r.values(f.key)))}"' for f in registry
        )
        venue = ctx.venue_of.get(r.id)
        cells = [
            f'<td data-label="Year" data-sort="{r.year}">{r.year}</td>',
            (
                f'<td data-label="Title" data-sort="{safe.attr(r.title.casefold())}" class="kb-title-cell"><a'
                f' href="{ctx.href(doc, paper_doc(r.id))}"'
                f' data-paper-id="{safe.attr(r.id)}">{safe.text(r.title)}</a></td>'
            ),
            (
                '<td data-label="Authors"'
                f' data-sort="{safe.attr((r.authors[0].split()[-1] if r.authors else "").casefold())}">'
                f"{authors_html(ctx, doc, r)}</td>"
            ),
            (
                '<td data-label="Venue"'
                f' data-sort="{safe.attr((venue.series if venue else "").casefold())}">{venue_html(ctx, doc, r)}</td>'
            ),
            f'<td data-label="Code" data-sort="{1 if r.links.code else 0}">{code_html(r)}</td>',
        ]
        for f in registry:
            values = r.values(f.key)
            names = " ".join(f.name(v) for v in values).casefold()
            cells.append(
                f'<td data-label="{safe.attr(f.label)}"'
                f' data-sort="{safe.attr(names)}">'
                f"{''.join(chip(ctx, doc, f.key, v, labelled=False) for v in values)}</td>"
            )
        row = f'<tr data-year="{r.year}" data-title="{safe.attr(r.title.casefold())}" {data}>{"".join(cells)}</tr>'
        ctx.rows[("row", r.id, prefix)] = row
        rows.append(row)
    table = (
        f'<div class="kb-table-wrap"><table class="kb-papers"><thead><tr>{cells_head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return _filters(ctx, records) + table


def _filters(ctx: SiteContext, records: list[Record]) -> str:
    """A title filter, one select per facet (the values these papers have, in vocabulary order), the count, a reset."""
    parts = [
        '<label class="kb-title-filter">Title <input type="search" class="kb-filter-title" placeholder="words in the'
        ' title"></label>'
    ]
    for facet in ctx.kb.taxonomy.registry:
        used = {v for r in records for v in r.values(facet.key)}
        if not used:
            continue
        options = "".join(
            f'<option value="{safe.attr(v)}">{safe.text(facet.name(v))}</option>' for v in facet.values() if v in used
        )
        parts.append(
            f'<label>{safe.text(facet.label)} <select class="kb-filter" data-facet="{safe.attr(facet.key)}">'
            f'<option value="">any</option>{options}</select></label>'
        )
    parts.append(f'<span class="kb-shown" aria-live="polite">{len(records)} of {len(records)} papers</span>')
    parts.append('<button type="button" class="kb-reset md-button">Reset</button>')
    return '<div class="kb-filters kb-table-filters">' + "".join(parts) + "</div>"


def by_year(ctx: SiteContext, doc: str, records: list[Record]) -> str:
    """Papers grouped by year, newest first: title, authors, venue, code (a tag page's list)."""
    groups: dict[int, list[Record]] = defaultdict(list)
    for r in records:
        groups[r.year].append(r)
    out = []
    prefix = root_prefix(doc)
    for year in sorted(groups, reverse=True):
        items = []
        for r in sorted(groups[year], key=lambda r: r.title.casefold()):
            item = ctx.rows.get(("item", r.id, prefix))
            if item is None:
                venue = venue_html(ctx, doc, r)
                code = code_html(r)
                extra = "".join(f' <span class="kb-list-meta">{part}</span>' for part in (venue, code) if part)
                item = (
                    f'<li><a href="{ctx.href(doc, paper_doc(r.id))}"'
                    f' data-paper-id="{safe.attr(r.id)}">{safe.text(r.title)}</a><span'
                    f' class="kb-list-authors">{authors_html(ctx, doc, r)}</span>{extra}</li>'
                )
                ctx.rows[("item", r.id, prefix)] = item
            items.append(item)
        out.append(
            f'<h2 id="y{year}">{year} <span class="kb-count">{len(groups[year])}</span></h2><ul'
            f' class="kb-paper-list">{"".join(items)}</ul>'
        )
    return "".join(out)
