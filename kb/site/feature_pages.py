"""The graph, statistics, downloads, browser-search widget and method pages.

Data for scripts travels as JSON files or `<script type="application/json">` blocks read with
JSON.parse and rendered with textContent, so record text never becomes markup.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from kb.export import FORMATS
from kb.identifier import is_arxiv
from kb.site import charts
from kb.site import markdown_safety as safe
from kb.site.context import SiteContext, method_doc, paper_doc
from kb.taxonomy import Taxonomy

SEARCH_WIDGET = """<div class="kb-search-page">
<p class="kb-search-hint">Type in the search box at the top of the page: a question in your own words, a title, an
acronym,
an author or an arXiv id. The query and the filters below stay in the address, so a search can be shared.</p>
<p id="kb-search-status" class="kb-search-status" aria-live="polite"></p>
<div class="kb-filters kb-search-filters"></div>
<ol id="kb-search-results" class="kb-search-results"></ol>
</div>
"""


def graph_page(ctx: SiteContext) -> str:
    roots = ctx.kb.taxonomy.roots()
    legend = "".join(
        f'<span class="kb-legend kb-p-{safe.attr(r)}"><span'
        f' class="kb-swatch"></span>{safe.text(ctx.kb.taxonomy.areas[r].name)}</span>'
        for r in roots
    )
    n_lineage = sum(1 for *_, k in ctx.graph.edges(data="kind") if k == "lineage")
    n_cites = ctx.graph.number_of_edges() - n_lineage
    n_linked = sum(1 for _, degree in ctx.graph.degree() if degree)
    return (
        "---\ntitle: Graph\nhide: [toc]\n---\n\n# Lineage and citation graph\n\n"
        f"{ctx.graph.number_of_nodes()} papers, {n_lineage} lineage edges (solid) and {n_cites} citation edges"
        " (dashed), "
        "coloured by the paper's perspective and sized by their number of links. "
        f"The {n_linked} papers with at least one link are drawn; tick *show papers without links* for the rest. "
        "Click a node to open the paper; scroll to zoom.\n\n"
        f'<div class="kb-graph-legend">{legend}</div>\n'
        '<div class="kb-graph-tools"><label><input type="checkbox" id="kb-graph-cites" checked> citations</label> '
        '<label><input type="checkbox" id="kb-graph-lineage" checked> lineage</label> '
        '<label><input type="checkbox" id="kb-graph-unlinked"> show papers without links</label></div>\n'
        '<div id="kb-graph" class="kb-graph" data-src="../assets/kb/graph.json" role="img" aria-label="Graph of'
        ' papers"></div>\n'
        '<p id="kb-graph-status" class="kb-shown" aria-live="polite"></p>\n'
        '<script src="../assets/vendor/cytoscape/cytoscape.min.js"></script>\n<script'
        ' src="../assets/kb-graph.js"></script>\n'
    )


def statistics_charts(ctx: SiteContext) -> dict[str, str]:
    """Papers per year, stacked by perspective, granularity and modality, as SVG (`kb.site.charts`)."""
    kb = ctx.kb
    taxonomy = kb.taxonomy
    years = list(range(min(r.year for r in kb), max(r.year for r in kb) + 1)) if len(kb) else []
    groups: dict[str, tuple[str, list[tuple[str, str, str]], Any]] = {
        "perspective": (
            "Papers per year by perspective",
            [(a, taxonomy.areas[a].name, f"kb-p-{a}") for a in taxonomy.roots()],
            lambda r: {taxonomy.perspective(a) for a in r.taxonomy},
        ),
    }
    for key in ("granularity", "modality"):
        if key in taxonomy.registry:
            facet = taxonomy.facet(key)
            groups[key] = (
                f"Papers per year by {facet.label.lower()}",
                [(v, facet.name(v), f"kb-c-{i % 8}") for i, v in enumerate(facet.values())],
                lambda r, key=key: set(r.values(key)),
            )
    out = {}
    for key, (title, terms, terms_of) in groups.items():
        counts: Counter[tuple[int, str]] = Counter((r.year, term) for r in kb for term in terms_of(r))
        series = [charts.Series(name, css, [counts.get((y, term), 0) for y in years]) for term, name, css in terms]
        out[key] = charts.stacked(
            [str(y) for y in years],
            [s for s in series if any(s.values)],
            title=title,
            x_title="year",
            chart_id=f"kb-chart-{key}",
        )
    return out


def statistics_page(ctx: SiteContext, counts: dict[str, dict[str, int]]) -> str:
    figures = statistics_charts(ctx)
    taxonomy = ctx.kb.taxonomy
    names = {
        "area": ("Area", {a: taxonomy.path_name(a) for a in taxonomy.areas}),
        "year": ("Year", {y: y for y in counts.get("year", {})}),
        **{f.key: (f.label, _names(taxonomy, f.key)) for f in taxonomy.registry},
    }
    # Beside each chart, the counts it shows (kb.statistics.compute, the same numbers as `kb stats`).
    tables_of = {"perspective": "year", "granularity": "granularity", "modality": "modality"}
    sections = [
        "<div"
        f' class="kb-stat-row"><div>{figure}</div>{_count_table(tables_of[key], names[tables_of[key]], counts)}</div>'
        for key, figure in figures.items()
    ]
    return (
        '---\ntitle: Statistics\ndescription: "Papers of the knowledge base per year, perspective, area, granularity,'
        ' modality and contribution."\n---\n\n# Statistics\n\n'
        f"{counts['papers']['total']} papers in the knowledge base. A paper counts once in every area, granularity and "
        "modality it is labelled with, and in every area above those.\n\n"
        + "\n".join(sections)
        + "\n\n<h2>Papers per area</h2>"
        + _count_table("area", names["area"], counts)
        + "\n\n"
        + "<h2>Papers per contribution</h2>"
        + _count_table("contribution", names["contribution"], counts)
        + "\n"
    )


def _names(taxonomy: Taxonomy, key: str) -> dict[str, str]:
    facet = taxonomy.facet(key)
    return {value: facet.name(value) for value in facet.values()}


def _count_table(key: str, label: tuple[str, dict[str, str]], counts: dict[str, dict[str, int]]) -> str:
    heading, names = label
    rows = "".join(
        f"<tr><td>{safe.text(names.get(term, term))}</td><td>{n}</td></tr>" for term, n in counts.get(key, {}).items()
    )
    return (
        '<table class="kb-counts"'
        f' data-counts="{safe.attr(key)}"><thead><tr><th>{safe.text(heading)}</th><th>Papers</th></tr></thead><tbody>'
        f"{rows}</tbody></table>"
    )


def downloads_page(ctx: SiteContext, sizes: dict[str, int]) -> str:
    labels = {
        "bibtex": "BibTeX",
        "csl-json": "CSL-JSON (Zotero, Pandoc, citeproc)",
        "jsonl": "JSON Lines (one record a line)",
    }
    items = "".join(
        f'<li><a href="../downloads/kb.{ext}" download>{labels[fmt]}</a> — <code>kb.{ext}</code>,'
        f" {sizes.get(fmt, 0) / 1024:.1f} KiB</li>"
        for fmt, ext in FORMATS.items()
    )
    return (
        "---\ntitle: Downloads\n---\n\n# Downloads\n\n"
        f"The whole knowledge base ({len(ctx.kb)} papers), regenerated on every build:\n\n<ul>{items}</ul>\n\n"
        "The same files come from the command line, optionally for one area:\n\n"
        "```sh\nkb export --format bibtex > kb.bib\nkb export --format csl-json --area model.token > token.csl.json\n"
        "kb export --format jsonl --output kb.jsonl\n```\n"
    )


def search_page(hand_written: str | None) -> str:
    """The search engineer's page with the widget put right under its title."""
    text = hand_written if hand_written is not None else "---\ntitle: Search\n---\n\n# Search\n"
    lines = text.splitlines()
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), None)
    if at is None:
        start = 0
        if lines and lines[0].strip() == "---":
            start = next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        at = start
    return "\n".join([*lines[:at], "", SEARCH_WIDGET, *lines[at:]]) + "\n"


def methods_table(ctx: SiteContext) -> str:
    """The table appended to the hand-written methods.md (address methods/): one row per method page."""
    doc = "methods.md"
    rows = []
    for name, method in ctx.methods.items():
        paper = getattr(method, "paper_id", None)
        paper_cell = (
            f'<a href="{ctx.href(doc, paper_doc(paper))}"'
            f' data-paper-id="{safe.attr(paper)}">{safe.text(ctx.kb.records[paper].title)}</a>'
            if paper in ctx.kb.records
            else safe.text(paper or "")
        )
        rows.append(
            "<tr><td><a"
            f' href="{ctx.href(doc, method_doc(name))}">{safe.text(getattr(method, "title", name))}</a></td><td>'
            f"{paper_cell}</td><td>{safe.text(getattr(method, 'summary', ''))}</td></tr>"
        )
    if not rows:
        return ""
    return (
        "\n\n## Reference implementations\n\n<table><thead><tr><th>Method</th><th>Paper</th><th>What it"
        f" does</th></tr></thead><tbody>{''.join(rows)}</tbody></table>\n"
    )


def method_page(ctx: SiteContext, name: str, has_figure: bool) -> str:
    method = ctx.methods[name]
    doc = f"methods/{name}.md"
    parts = [
        f"<h1>{safe.text(getattr(method, 'title', name))}</h1>",
        f"<p>{safe.text(getattr(method, 'summary', ''))}</p>",
    ]
    paper = getattr(method, "paper_id", None)
    if paper in ctx.kb.records:
        parts.append(
            f'<p>Paper: <a href="{ctx.href(doc, paper_doc(paper))}"'
            f' data-paper-id="{safe.attr(paper)}">{safe.text(ctx.kb.records[paper].title)}</a></p>'
        )
    elif isinstance(paper, str) and is_arxiv(paper):  # a method whose paper has no record (yet)
        parts.append(
            f"<p>Paper: {safe.link(f'https://arxiv.org/abs/{paper}', f'arXiv:{paper}')} (not in the knowledge base)</p>"
        )
    implementation = getattr(method, "implementation", None)
    if implementation:
        parts.append(f"<p>Implementation: <code>{safe.text(implementation)}</code></p>")
    if has_figure:
        parts.append(
            f'<figure><img src="../../assets/xai/{safe.attr(name)}.png"'
            f' alt="{safe.attr(getattr(method, "title", name))} on the benchmark model" loading="lazy"></figure>'
        )
    differences = getattr(method, "differences", "")
    if differences:
        parts.append(f"<h2>Where it departs from the paper</h2><p>{safe.text(differences)}</p>")
    rows = _bench_rows(ctx.bench, name)
    if rows:
        cells = "".join(
            f"<tr><td>{safe.text(label)}</td><td>{safe.text(model)}</td><td>{safe.text(value)}</td><td>{safe.text(seeds)}</td></tr>"
            for label, model, value, seeds in rows
        )
        parts.append(
            "<h2>Benchmark</h2><p>Toy models with known evidence; pooled mean over three model seeds with its 95%"
            " bootstrap interval, then each seed's mean.</p><table><thead><tr><th>Metric</th><th>Toy"
            f" model</th><th>Mean [95% interval]</th><th>Per seed</th></tr></thead><tbody>{cells}</tbody></table>"
        )
    related = [p for p in getattr(method, "related", ()) if p in ctx.kb.records]
    if related:
        items = "".join(
            f'<li><a href="{ctx.href(doc, paper_doc(p))}"'
            f' data-paper-id="{safe.attr(p)}">{safe.text(ctx.kb.records[p].title)}</a></li>'
            for p in related
        )
        parts.append(f"<p>Also carries the idea of:</p><ul>{items}</ul>")
    parts.append(f'<p><a href="{ctx.href(doc, "methods.md")}">All methods and the benchmark</a></p>')
    return (
        f'---\ntitle: {safe.front_matter_title(getattr(method, "title", name))}\n---\n\n<div class="kb-method">'
        + "\n".join(parts)
        + "</div>\n"
    )


def _bench_rows(bench: dict[str, object], name: str) -> list[tuple[str, str, str, str]]:
    """Rows of the committed benchmark for one method (kb.xai.report formats them; it imports no torch)."""
    try:
        from kb.xai.report import method_rows
    except ImportError:
        return []
    return method_rows(bench, name) if bench else []
