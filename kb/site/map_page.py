"""The map of all papers: each paper a dot placed by `kb.site.projection` (papers close in meaning lie close),
coloured by its perspective; drawn at build time as inline SVG, each dot a link to its paper.
site/assets/kb-map.js adds the search box (dots whose title, author or arXiv id match stay lit and get a
label), the area filter, zoom and the hover label."""

from __future__ import annotations

from kb.site import markdown_safety as safe
from kb.site.context import SiteContext, paper_doc

DOC = "map.md"
SIZE = 1000  # the SVG's coordinate box; CSS scales it to the page


def page(ctx: SiteContext) -> str:
    taxonomy = ctx.kb.taxonomy
    roots = taxonomy.roots()
    legend = "".join(
        '<span class="kb-legend-item"><span class="kb-swatch'
        f' kb-p-{safe.attr(r)}"></span>{safe.text(taxonomy.areas[r].name)}</span>'
        for r in roots
    )
    areas = "".join(
        f'<option value="{safe.attr(a)}">{safe.text(taxonomy.path_name(a))}</option>' for a in taxonomy.areas
    )
    dots = []
    margin = 20
    for record in sorted(ctx.kb, key=lambda r: r.id):
        if record.id not in ctx.positions:
            continue
        x, y = ctx.positions[record.id]
        px, py = margin + x * (SIZE - 2 * margin), margin + y * (SIZE - 2 * margin)
        perspective = taxonomy.perspective(record.taxonomy[0])
        within = sorted({a for leaf in record.taxonomy for a in (leaf, *taxonomy.ancestors(leaf))})
        dots.append(
            f'<a href="{ctx.href(DOC, paper_doc(record.id))}" data-paper-id="{safe.attr(record.id)}"'
            f' data-areas="{safe.attr(" ".join(within))}"'
            f' data-find="{safe.attr(" ".join([record.title, record.id, *record.authors]).casefold())}"><circle'
            f' class="kb-p-{safe.attr(perspective)}" cx="{px:.1f}" cy="{py:.1f}"'
            f' r="6"/><title>{safe.text(record.title)} ({record.year})</title></a>'
        )
    return (
        '---\ntitle: Map\ndescription: "A map of every paper in the knowledge base: papers close in meaning lie close'
        f' together."\nhide: [toc, navigation]\n---\n\n# Map of the papers\n\n<p>Every paper ({len(dots)}) as a dot:'
        " papers whose summaries and findings are close in meaning lie close together (a t-SNE projection of their"
        " sentence-transformer vectors, computed when the site is built). Colour is the perspective of the paper's"
        " first area. Search to light up matching papers, pick an area, scroll or use the buttons to zoom, drag to"
        ' move, and click a dot to open its paper.</p>\n\n<div class="kb-map-tools"><label>Find <input type="search"'
        ' id="kb-map-find" placeholder="title, author or arXiv id" autocomplete="off"></label> <label>Area <select'
        f' id="kb-map-area"><option value="">all</option>{areas}</select></label> <button type="button"'
        ' class="md-button" id="kb-map-zoom-in" aria-label="Zoom in">+</button><button type="button" class="md-button"'
        ' id="kb-map-zoom-out" aria-label="Zoom out">−</button><button type="button" class="md-button"'
        ' id="kb-map-reset">Reset view</button><span id="kb-map-status" class="kb-shown"'
        f' aria-live="polite"></span></div>\n<div class="kb-map-legend kb-legend">{legend}</div>\n'
        + ctx.insert(
            DOC,
            f'<div class="kb-map-box"><svg id="kb-map" class="kb-map" viewBox="0 0 {SIZE} {SIZE}" role="img"'
            f' aria-label="Map of the papers"><g class="kb-map-dots">{"".join(dots)}</g><g'
            ' class="kb-map-labels"></g></svg><div id="kb-map-tip" class="kb-map-tip" hidden></div></div>',
        )
        + '\n<script src="../assets/kb-map.js"></script>\n'
    )
