"""Every tag is a page: one per facet value (every facet of the registry), venue series and author, each with
its papers per year; the index pages that list them; and the method x model coverage matrix.

Facet-value and venue pages show the sortable, filterable table of `kb.site.tables` (so a coverage cell can
link to a model's page filtered to one method family); author pages list their papers by year.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from kb.facets import Names
from kb.records import Record
from kb.site import charts, tables
from kb.site import markdown_safety as safe
from kb.site.context import SiteContext
from kb.site.descriptions import summary
from kb.site.shell import Page

TAGS_INDEX = "tags.md"
AUTHORS_INDEX = "authors.md"
VENUES_INDEX = "venues.md"
COVERAGE = "coverage.md"
# The coverage matrix crosses these two facets of the registry (rows, columns); without either, no matrix.
COVERAGE_FACETS = ("method_family", "model")
COVERAGE_MIN_PAPERS = 2  # past COVERAGE_ALL_UNTIL models, one needs this many papers for a column (the rest are listed)
COVERAGE_ALL_UNTIL = 40


def _newest_first(records: list[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (-r.year, r.title.casefold()))


def _years(records: list[Record]) -> dict[int, int]:
    return dict(Counter(r.year for r in records))


def _count(n: int) -> str:
    return f"{n} paper" + ("" if n == 1 else "s")


def facet_value_page(ctx: SiteContext, facet_key: str, value: str, records: list[Record]) -> Page:
    """The page of one facet value; `records`: its papers, newest first (`listings`)."""
    facet = ctx.kb.taxonomy.facet(facet_key)
    doc = ctx.tag_doc(facet_key, value)
    name = facet.name(value)
    about = facet.vocabulary.description(value)
    parts = [
        f'<div class="kb-tag" data-facet="{safe.attr(facet_key)}" data-value="{safe.attr(value)}">',
        f'<p class="kb-breadcrumb"><a href="{ctx.href(doc, TAGS_INDEX)}">Tags</a> › {safe.text(facet.label)}</p>',
        f"<h1>{safe.text(name)}</h1>",
    ]
    if about:
        label = "Also written" if isinstance(facet.vocabulary, Names) else facet.label
        parts.append(f'<p class="kb-tag-description"><strong>{safe.text(label)}.</strong> {safe.text(about)}</p>')
    parts.append(f"<p>{_count(len(records))} in the knowledge base.</p>")
    parts.append(charts.per_year(_years(records), title=f"{name}: papers per year", chart_id="kb-tag-years"))
    parts.append(tables.papers_table(ctx, doc, records))
    parts.append("</div>")
    description = summary(f"{facet.label} {name}: {_count(len(records))} on explaining multimodal LLMs. {about}")
    return Page(doc, f"{facet.label}: {name}", description, "".join(parts))


def venue_page(ctx: SiteContext, series: str, records: list[Record]) -> Page:
    doc = ctx.venue_doc(series)
    editions = Counter(r.venue for r in records)
    kind = ctx.venue_of[records[0].id].kind if records else None
    parts = [
        '<div class="kb-tag kb-venue">',
        f'<p class="kb-breadcrumb"><a href="{ctx.href(doc, VENUES_INDEX)}">Venues</a></p>',
        f"<h1>{safe.text(series)}</h1>",
        f"<p>{_count(len(records))}"
        + (f" ({safe.text(kind)})" if kind else "")
        + ": "
        + ", ".join(f"{safe.text(v)} ({n})" for v, n in sorted(editions.items()))
        + ".</p>",
        charts.per_year(_years(records), title=f"{series}: papers per year of posting", chart_id="kb-tag-years"),
        tables.papers_table(ctx, doc, records),
        "</div>",
    ]
    return Page(
        doc,
        f"Venue: {series}",
        summary(f"{series}: {_count(len(records))} on explaining multimodal LLMs."),
        "".join(parts),
    )


def author_page(ctx: SiteContext, name: str, records: list[Record]) -> Page:
    doc = ctx.author_doc(name)
    coauthors = Counter(a for r in records for a in dict.fromkeys(r.authors) if a != name)
    parts = [
        '<div class="kb-tag kb-author">',
        f'<p class="kb-breadcrumb"><a href="{ctx.href(doc, AUTHORS_INDEX)}">Authors</a></p>',
        f"<h1>{safe.text(name)}</h1>",
        f"<p>{_count(len(records))} in the knowledge base.</p>",
    ]
    if len(records) > 1:
        parts.append(charts.per_year(_years(records), title=f"{name}: papers per year", chart_id="kb-tag-years"))
    parts.append(tables.by_year(ctx, doc, records))
    if coauthors:
        top = sorted(coauthors.items(), key=lambda item: (-item[1], item[0]))[:12]
        parts.append(
            "<h2>Co-authors here</h2><p>"
            + ", ".join(f'<a href="{ctx.href(doc, ctx.author_doc(a))}">{safe.text(a)}</a> ({n})' for a, n in top)
            + "</p>"
        )
    parts.append("</div>")
    return Page(
        doc,
        name,
        summary(f"{name}: {_count(len(records))} in the knowledge base of MLLM explainability research."),
        "".join(parts),
    )


@dataclass(frozen=True)
class Listing:
    """A tag, venue or author page before it is made: what it lists (for its key in `kb.site.page_cache`)
    and how to make it."""

    doc: str
    kind: str
    name: str
    records: list[Record]  # newest first, as the page lists them
    make: Callable[[], Page]


def listings(ctx: SiteContext) -> Iterator[Listing]:
    """Every tag page, one at a time (the caller makes and writes each away, or keeps last build's): facet
    values that some paper has, venue series, authors."""
    for (key, value), tagged in ctx.by_value.items():
        records = _newest_first(tagged)
        make = partial(facet_value_page, ctx, key, value, records)
        yield Listing(ctx.tag_doc(key, value), f"tag:{key}", value, records, make)
    for series, published in ctx.by_venue.items():
        records = _newest_first(published)
        yield Listing(ctx.venue_doc(series), "venue", series, records, partial(venue_page, ctx, series, records))
    for name, written in ctx.by_author.items():
        records = _newest_first(written)
        yield Listing(ctx.author_doc(name), "author", name, records, partial(author_page, ctx, name, records))


# -- index pages (mkdocs pages, in the nav) ----------------------------------------------------------------


def _front(title: str, description: str) -> str:
    return (
        f"---\ntitle: {safe.front_matter_title(title)}\ndescription: {safe.front_matter_title(description)}\nhide:"
        " [toc]\n---\n\n"
    )


def tags_index(ctx: SiteContext) -> str:
    doc = TAGS_INDEX
    parts = [
        (
            "# Tags\n\n<p>Every value of every facet, with its number of papers. "
            f'See also <a href="{ctx.href(doc, AUTHORS_INDEX)}">authors</a>, <a'
            f' href="{ctx.href(doc, VENUES_INDEX)}">venues</a> '
            f'and the <a href="{ctx.href(doc, COVERAGE)}">method × model coverage</a>.</p>'
        )
    ]
    heavy = []
    for facet in ctx.kb.taxonomy.registry:
        items = [
            f'<li><a href="{ctx.href(doc, ctx.tag_doc(facet.key, v))}">{safe.text(facet.name(v))}</a> <span'
            f' class="kb-count">{len(ctx.by_value[(facet.key, v)])}</span></li>'
            for v in facet.values()
            if (facet.key, v) in ctx.by_value
        ]
        heavy.append(
            f'<h2 id="{safe.attr(facet.key)}">{safe.text(facet.label)}</h2><ul'
            f' class="kb-tag-cloud">{"".join(items)}</ul>'
        )
    parts.append(ctx.insert(doc, "".join(heavy)))
    return (
        _front(
            "Tags",
            "Every facet value of the knowledge base with its papers: granularity, modality, contribution, method"
            " family, model.",
        )
        + "\n".join(parts)
        + "\n"
    )


def authors_index(ctx: SiteContext) -> str:
    doc = AUTHORS_INDEX
    by_letter: dict[str, list[str]] = {}
    for name in sorted(ctx.by_author, key=lambda a: (a.split()[-1].casefold() if a.split() else a, a)):
        surname = name.split()[-1] if name.split() else name
        letter = surname[:1].upper() if surname[:1].isalpha() else "#"
        by_letter.setdefault(letter, []).append(name)
    parts = [
        f"# Authors\n\n<p>{len(ctx.by_author)} authors, by surname, with their number of papers here.</p>",
        '<p class="kb-letters">'
        + " ".join(f'<a href="#l-{safe.attr(k)}">{safe.text(k)}</a>' for k in by_letter)
        + "</p>",
    ]
    heavy = []
    for letter, names in by_letter.items():
        items = "".join(
            f'<li><a href="{ctx.href(doc, ctx.author_doc(a))}">{safe.text(a)}</a> <span'
            f' class="kb-count">{len(ctx.by_author[a])}</span></li>'
            for a in names
        )
        heavy.append(f'<h2 id="l-{safe.attr(letter)}">{safe.text(letter)}</h2><ul class="kb-tag-cloud">{items}</ul>')
    parts.append(ctx.insert(doc, "".join(heavy)))
    return (
        _front("Authors", f"The {len(ctx.by_author)} authors of the papers in the knowledge base.")
        + "\n".join(parts)
        + "\n"
    )


def venues_index(ctx: SiteContext) -> str:
    doc = VENUES_INDEX
    rows = []
    for series, records in sorted(ctx.by_venue.items(), key=lambda item: (-len(item[1]), item[0].casefold())):
        kind = ctx.venue_of[records[0].id].kind or "not in proceedings"
        years = sorted({r.year for r in records})
        rows.append(
            "<tr><td><a"
            f' href="{ctx.href(doc, ctx.venue_doc(series))}">{safe.text(series)}</a></td><td>{safe.text(kind)}</td>'
            f"<td>{len(records)}</td><td>{years[0]}–{years[-1]}</td></tr>"
        )
    unpublished = sum(1 for r in ctx.kb if r.id not in ctx.venue_of)
    return (
        _front("Venues", "Where the papers of the knowledge base were published, by venue series.")
        + f"# Venues\n\n<p>Venue series as the records name them; {unpublished} papers have no venue (arXiv"
        " preprints).</p>"
        + ctx.insert(
            doc,
            '<table class="kb-counts"><thead><tr><th>Venue</th><th>Kind</th><th>Papers</th><th>Years'
            f" posted</th></tr></thead><tbody>{''.join(rows)}</tbody></table>",
        )
        + "\n"
    )


def coverage_page(ctx: SiteContext) -> str:
    """Which method family has been applied to which model: counts, with empty cells kept visible."""
    registry = ctx.kb.taxonomy.registry
    row_key, column_key = COVERAGE_FACETS
    head = _front(
        "Method × model coverage",
        "Which explanation method families have been applied to which multimodal models, and where nothing has been"
        " published yet.",
    )
    if row_key not in registry or column_key not in registry:
        return head + "# Method × model coverage\n\n<p>The taxonomy declares no method or model facet.</p>\n"
    doc = COVERAGE
    rows_facet, columns_facet = registry[row_key], registry[column_key]
    counts: Counter[tuple[str, str]] = Counter()
    for record in ctx.kb:
        for method in record.values(row_key):
            for model in record.values(column_key):
                counts[(method, model)] += 1
    per_model = Counter(m for r in ctx.kb for m in r.values(column_key))
    least = 1 if len(per_model) <= COVERAGE_ALL_UNTIL else COVERAGE_MIN_PAPERS
    columns = [m for m in columns_facet.values() if per_model[m] >= least]
    columns.sort(key=lambda m: -per_model[m])
    rows = [f for f in rows_facet.values() if (row_key, f) in ctx.by_value]
    header = "".join(
        '<th scope="col" class="kb-cov-model"><a'
        f' href="{ctx.href(doc, ctx.tag_doc(column_key, m))}"><span>{safe.text(columns_facet.name(m))}</span></a></th>'
        for m in columns
    )
    body = []
    for method in rows:
        cells = []
        for model in columns:
            n = counts[(method, model)]
            if n:
                target = ctx.href(doc, ctx.tag_doc(column_key, model)) + f"?{row_key}={method}"
                cells.append(
                    f'<td class="kb-cov-hit" style="--kb-n:{min(n, 8)}"><a href="{safe.attr(target)}"'
                    f' title="{safe.attr(rows_facet.name(method))} × {safe.attr(columns_facet.name(model))}:'
                    f' {n}">{n}</a></td>'
                )
            else:
                cells.append(
                    f'<td class="kb-cov-empty" title="{safe.attr(rows_facet.name(method))} ×'
                    f' {safe.attr(columns_facet.name(model))}: no paper yet"></td>'
                )
        body.append(
            '<tr><th scope="row"><a'
            f' href="{ctx.href(doc, ctx.tag_doc(row_key, method))}">{safe.text(rows_facet.name(method))}</a></th>'
            f"{''.join(cells)}</tr>"
        )
    rare = [m for m in columns_facet.values() if 0 < per_model[m] < least]
    rare_list = ", ".join(
        f'<a href="{ctx.href(doc, ctx.tag_doc(column_key, m))}">{safe.text(columns_facet.name(m))}</a>' for m in rare
    )
    empty = sum(1 for method in rows for model in columns if not counts[(method, model)])
    return (
        head + f"# Method × model coverage\n\n<p>Rows: {safe.text(rows_facet.label.lower())} ({len(rows)}); columns:"
        f" {safe.text(columns_facet.label.lower())} with at least {least} paper{'s' if least > 1 else ''}"
        f" ({len(columns)}), most studied first. A number counts the papers that apply the method to the model and"
        f" opens the model's papers filtered to the method; {empty} of {len(rows) * len(columns)} cells are empty:"
        " nobody has published that combination here yet.</p>"
        + ctx.insert(
            doc,
            '<div class="kb-coverage-wrap"><table class="kb-coverage"><thead><tr><th'
            f' scope="col">{safe.text(rows_facet.label)} ↓ · {safe.text(columns_facet.label)}'
            f" →</th>{header}</tr></thead><tbody>{''.join(body)}</tbody></table></div>",
        )
        + (f"<p>Models with a single paper: {rare_list}.</p>" if rare else "")
        + "\n"
    )
