"""The taxonomy on the site: the home page's clickable framework diagram and one page per area
(what it covers, its sub-areas, and its papers in the table of `kb.site.tables`)."""

from __future__ import annotations

from kb.site import markdown_safety as safe
from kb.site import tables
from kb.site.context import SiteContext, area_doc
from kb.site.descriptions import summary

HOME = "index.md"
AREAS_INDEX = "areas/index.md"


def framework_diagram(ctx: SiteContext, doc: str) -> str:
    """Perspectives as columns, areas as nested clickable boxes, each with its paper count."""
    taxonomy = ctx.kb.taxonomy
    counts = {a: len(ctx.kb.in_area(a)) for a in taxonomy.areas}

    def box(area_id: str, depth: int) -> str:
        area = taxonomy.areas[area_id]
        children = "".join(box(c, depth + 1) for c in taxonomy.children(area_id))
        inner = (
            f'<a class="kb-fw-link" href="{ctx.href(doc, area_doc(area_id))}"'
            f' title="{safe.attr(area.description)}"><span class="kb-fw-name">{safe.text(area.name)}</span> <span'
            f' class="kb-fw-count" title="papers">{counts[area_id]}</span></a>'
        )
        kids = f'<div class="kb-fw-children">{children}</div>' if children else ""
        return f'<div class="kb-fw-box kb-fw-depth-{depth}" data-area="{safe.attr(area_id)}">{inner}{kids}</div>'

    columns = "".join(
        f'<div class="kb-fw-column kb-p-{safe.attr(root)}">{box(root, 0)}</div>' for root in taxonomy.roots()
    )
    return f'<div class="kb-framework" role="navigation" aria-label="Survey framework">{columns}</div>'


def home(ctx: SiteContext, intro: str) -> str:
    kb = ctx.kb
    years = sorted({r.year for r in kb})
    span = f"{years[0]}–{years[-1]}" if years else "—"
    stats = (
        f'<p class="kb-home-stats"><strong>{len(kb)}</strong> papers · <strong>{len(kb.taxonomy.leaves())}</strong>'
        f" areas · {span}</p>"
    )
    return (
        "---\ntitle: Home\nhide: [navigation, toc]\n---\n\n"
        + intro.strip()
        + "\n\n"
        + f'<div class="kb-home">{stats}{framework_diagram(ctx, HOME)}</div>\n\n'
        + "Click an area to see what it covers and its papers. "
        + "[Search](search.md) by describing what you need, explore the [graph](graph.md) of lineage and citations, "
        + "or see the [statistics](statistics.md).\n"
    )


def areas_index(ctx: SiteContext) -> str:
    return (
        "---\ntitle: Browse the taxonomy\n---\n\n# Browse the taxonomy\n\n" + framework_diagram(ctx, AREAS_INDEX) + "\n"
    )


def area_page(ctx: SiteContext, area_id: str) -> str:
    kb = ctx.kb
    taxonomy = kb.taxonomy
    area = taxonomy.areas[area_id]
    doc = area_doc(area_id)
    crumbs = [
        f'<a href="{ctx.href(doc, area_doc(a))}">{safe.text(taxonomy.areas[a].name)}</a>'
        for a in reversed(taxonomy.ancestors(area_id))
    ]
    parts = [f'<div class="kb-area kb-p-{safe.attr(taxonomy.perspective(area_id))}" data-area="{safe.attr(area_id)}">']
    if crumbs:
        parts.append('<p class="kb-breadcrumb">' + " › ".join(crumbs) + "</p>")
    parts.append(f"<h1>{safe.text(area.name)}</h1>")
    parts.append(f'<p class="kb-area-description">{safe.text(area.description)}</p>')
    children = taxonomy.children(area_id)
    if children:
        items = "".join(
            f'<li><a href="{ctx.href(doc, area_doc(c))}">{safe.text(taxonomy.areas[c].name)}</a> <span'
            f' class="kb-count">{len(kb.in_area(c))}</span> — {safe.text(taxonomy.areas[c].description)}</li>'
            for c in children
        )
        parts.append(f"<h2>Sub-areas</h2><ul>{items}</ul>")
    records = sorted(kb.in_area(area_id), key=lambda r: (-r.year, r.title.casefold()))
    parts.append(f"<h2>Papers ({len(records)})</h2>")
    if records:
        parts.append(ctx.insert(doc, tables.papers_table(ctx, doc, records)))
    else:
        parts.append(
            '<p><em>No papers in this area yet — <a href="'
            + ctx.href(doc, "contributing.md")
            + '">contribute one</a>.</em></p>'
        )
    parts.append("</div>")
    description = summary(f"{area.name}: {area.description} {len(records)} papers.")
    head = (
        f"---\ntitle: {safe.front_matter_title(area.name)}\ndescription: {safe.front_matter_title(description)}\nhide:"
        " [navigation, toc]\n---\n\n"
    )
    return head + "\n".join(parts) + "\n"
