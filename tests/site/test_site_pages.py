"""Generated pages without a browser: method pages and their links both ways, statistics tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from kb import graph as kb_graph
from kb import statistics
from kb.loader import load
from kb.project import Project
from kb.site import feature_pages, paper_page
from kb.site.context import SiteContext

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class FakeMethod:
    name: str
    title: str
    paper_id: str
    implementation: str
    summary: str
    related: tuple[str, ...] = ()


def toy_context(toy_root: Path) -> SiteContext:
    kb = load(Project(toy_root))
    return SiteContext(kb=kb, graph=kb_graph.build(kb))


def test_method_page_shows_its_results_row_and_links_both_ways(toy_root: Path) -> None:
    ctx = toy_context(toy_root)
    ctx.methods = {
        "vcd": FakeMethod(
            "vcd",
            "Visual <b>contrastive</b> decoding",
            "2311.16922",
            "kb.xai.decoding:VisualContrastiveDecoding",
            "Subtracts the answer given a noised image.",
            related=("2305.10355",),
        )
    }
    ctx.bench = {
        "architectures": ["llava"],
        "methods": {
            "vcd": {
                "paper_id": "2311.16922",
                "title": "x",
                "ms_per_example": {"llava": 3.0},
                "metrics": {"pointing_game": {"llava": {"pooled": [0.5, 0.4, 0.6], "seeds": {"0": [0.5, 0.4, 0.6]}}}},
            }
        },
        "decoding_and_neurons": {"llava": {"0": {"vcd": {"vcd_accuracy": 0.25}}}},
    }
    page = feature_pages.method_page(ctx, "vcd", has_figure=True)
    assert "&lt;b&gt;contrastive&lt;/b&gt;" in page and "<b>" not in page
    assert re.search(r'<a href="\.\./\.\./papers/2311\.16922/" data-paper-id="2311\.16922">', page)
    assert 'data-paper-id="2305.10355"' in page  # the record whose idea it carries
    assert "<td>pointing game (chance 1/16)</td><td>llava</td><td>0.50 &#91;0.40, 0.60&#93;</td><td>0.50</td>" in page
    assert "<td>accuracy, visual contrastive decoding</td><td>llava</td><td>0.25</td>" in page
    assert "paper id" not in page and "<td>title</td>" not in page
    assert 'src="../../assets/xai/vcd.png"' in page
    assert "<img" not in feature_pages.method_page(ctx, "vcd", has_figure=False)
    introduced = paper_page.render(ctx, ctx.kb.records["2311.16922"]).body
    assert '<a href="../../methods/vcd/">Visual &lt;b&gt;contrastive&lt;/b&gt; decoding</a>' in introduced
    carried = paper_page.render(ctx, ctx.kb.records["2305.10355"]).body
    assert 'href="../../methods/vcd/"' in carried
    assert "methods/vcd/" not in paper_page.render(ctx, ctx.kb.records["2410.04819"]).body
    table = feature_pages.methods_table(ctx)
    assert 'href="../methods/vcd/"' in table and 'href="../papers/2311.16922/"' in table


def test_every_catalogued_method_gets_a_page_linked_from_its_paper() -> None:
    catalog = pytest.importorskip("kb.xai.catalog")
    kb = load(Project(REPO))
    ctx = SiteContext(kb=kb, graph=kb_graph.build(kb))
    ctx.methods = {m.name: m for m in catalog.METHODS}
    from kb.xai.benchmark import read

    ctx.bench = read() or {}  # the committed results (kb xai bench --write); never retrained here
    assert ctx.bench, "kb/xai/results/benchmark.json is missing or of another version"
    assert ctx.methods, "kb.xai.catalog.METHODS is empty"
    for name, method in ctx.methods.items():
        page = feature_pages.method_page(ctx, name, has_figure=False)
        assert "<h2>Benchmark</h2>" in page, name
        if method.paper_id not in kb.records:  # a method paper not curated yet: linked on arXiv instead
            assert f'href="https://arxiv.org/abs/{method.paper_id}"' in page, name
            continue
        assert f'data-paper-id="{method.paper_id}"' in page, name
        assert f'href="../../methods/{name}/"' in paper_page.render(ctx, kb.records[method.paper_id]).body, name


def test_statistics_page_has_count_tables_beside_the_plots(toy_root: Path) -> None:
    ctx = toy_context(toy_root)
    counts = statistics.compute(ctx.kb)
    page = feature_pages.statistics_page(ctx, counts)
    for key in ("year", "granularity", "modality", "area", "contribution"):
        table = re.search(rf'<table class="kb-counts" data-counts="{key}">(.*?)</table>', page)
        assert table, key
        numbers = [int(n) for n in re.findall(r"<td>(\d+)</td></tr>", table.group(1))]
        assert numbers == list(counts[key].values()), key
    assert (
        page.index('data-counts="year"')
        < page.index('id="kb-chart-granularity"')
        < page.index('data-counts="granularity"')
    )
    # Charts are SVG drawn at build time, coloured by CSS classes: no charting library, no inline colours.
    assert "<svg" in page and "plotly" not in page.lower() and 'class="kb-p-model"' in page


@pytest.mark.parametrize(
    "value", ["the model's view", "a & b <i>x</i>", "C# [x](javascript:alert(1)) {: .x} *y*", "back\\slash &#39;"]
)
def test_text_escapes_once_and_round_trips(value: str) -> None:
    import html

    from kb.site.markdown_safety import text

    escaped = text(value)
    assert html.unescape(escaped) == value
    assert not set("<>'\"[]*#").intersection(escaped.replace("&#", ""))


def test_curators_note_is_shown_apart_and_labelled_as_ours(toy_root: Path) -> None:
    path = toy_root / "papers" / "2311.16922.yaml"
    path.write_text(
        path.read_text()
        + "curators_note: A decoding paper, kept because it makes the <b>weight</b> of language priors visible.\n"
    )
    ctx = toy_context(toy_root)
    page = paper_page.render(ctx, ctx.kb.records["2311.16922"]).body
    note = page[page.index('<aside class="kb-curators-note"') :]
    assert "Curators' note" in note and "not a claim of the paper" in note
    assert "&lt;b&gt;weight&lt;/b&gt;" in note and "<b>" not in note
    assert page.index("<h2>Findings</h2>") < page.index("kb-curators-note")
    plain = paper_page.render(ctx, load(Project(REPO / "tests" / "data" / "toykb")).records["2311.16922"]).body
    assert "kb-curators-note" not in plain


def test_the_projects_implementation_links_to_its_source_through_repo_url(toy_root: Path) -> None:
    from kb.site.settings import Settings

    path = toy_root / "papers" / "2311.16922.yaml"
    path.write_text(path.read_text() + "implementation: kb.xai.decoding:VisualContrastiveDecoding\n")
    ctx = toy_context(toy_root)
    ctx.settings = Settings("KB", "https://example.org/kb/", "https://github.com/example/kb")
    page = paper_page.render(ctx, ctx.kb.records["2311.16922"])
    assert '<a class="kb-source-link" href="https://github.com/example/kb/blob/main/kb/xai/decoding.py"' in page.body
    assert 'href="https://github.com/example/kb/edit/main/papers/2311.16922.yaml"' in page.body
    assert '<meta name="citation_conference_title" content="CVPR 2024">' in page.head
    ctx.settings = Settings()  # no repository configured: no repository links, nothing broken
    bare = paper_page.render(ctx, ctx.kb.records["2311.16922"]).body
    assert "kb-source-link" not in bare and "Edit this record" not in bare
