"""The built site in headless Chromium: pages load cleanly, search works, the graph draws, nothing hostile runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.site.conftest import HOSTILE_NAMES, MARK

pytestmark = pytest.mark.browser


def test_home_page_has_no_errors_and_shows_the_framework(page, site_url: str, tmp_path: Path) -> None:
    page.goto(site_url)
    page.wait_for_load_state("load")
    assert page.errors == []
    boxes = page.locator(".kb-framework .kb-fw-box")
    assert boxes.count() >= 20
    assert page.locator('.kb-fw-box[data-area="model.layer"] .kb-fw-count').first.inner_text().strip() == "2"
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)


def test_area_navigation_and_facet_filter(page, site_url: str) -> None:
    page.goto(site_url)
    page.locator('.kb-fw-box[data-area="model.layer"] > a').first.click()
    page.wait_for_url("**/areas/model.layer/")
    rows = page.locator("table.kb-papers tbody tr")
    assert rows.count() == 2
    page.select_option('select.kb-filter[data-facet="granularity"]', "token")
    assert page.locator("table.kb-papers tbody tr:visible").count() == 1
    assert page.errors == []


def test_paper_page_shows_bibtex_and_lineage(page, site_url: str) -> None:
    page.goto(site_url + "papers/2311.16922/")
    bibtex = page.locator("#kb-bibtex-text").inner_text()
    assert bibtex.startswith("@inproceedings{leng2023mitigating,") and "booktitle = {CVPR 2024}" in bibtex
    assert "eprint = {2311.16922}" in bibtex
    built_on_by = page.locator(".kb-lineage").inner_text()
    assert "A Toy Probe of Attention" in built_on_by
    assert page.locator('.kb-chip-area[data-area="training-inference.inference"]').count() == 1
    # Escaped once, not twice: an apostrophe reads as an apostrophe, not as "&#x27;".
    body = page.locator("article").inner_text()
    assert "model's next-token distribution" in body and "&#" not in body
    assert page.errors == []


def test_browser_search_finds_a_paraphrased_need(page, site_url: str) -> None:
    page.goto(site_url + "search/")
    page.focus("#kb-search")
    page.wait_for_selector('#kb-search[data-ready="true"]', timeout=30000)
    page.fill("#kb-search", "decoding that subtracts what the model predicts from a distorted copy of the image")
    page.wait_for_selector("#kb-search-results a[data-paper-id]")
    first = page.locator("#kb-search-results a[data-paper-id]").first.get_attribute("data-paper-id")
    assert first == "2311.16922"
    assert page.errors == []


def test_a_search_link_runs_the_query_without_the_theme_overlay(page, site_url: str) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(site_url + "search/?query=" + "contrastive decoding with a distorted image".replace(" ", "%20"))
    page.wait_for_selector("#kb-search-results a[data-paper-id]", timeout=30000)
    assert page.locator("#kb-search-results a[data-paper-id]").first.get_attribute("data-paper-id") == "2311.16922"
    # One search: the theme's keyword search and its index are gone.
    assert page.locator(".md-search, .md-search__input").count() == 0
    assert not [u for u in requested if "search_index.json" in u or "/lunr" in u]
    assert page.locator("input#kb-search").count() == 1
    assert page.errors == []


def test_graph_page_renders_nodes_and_opens_a_paper(page, site_url: str) -> None:
    page.goto(site_url + "graph/")
    page.wait_for_function("() => document.getElementById('kb-graph').dataset.nodes !== undefined", timeout=30000)
    graph = page.locator("#kb-graph")

    def drawn() -> tuple[int, int]:
        return int(graph.get_attribute("data-nodes")), int(graph.get_attribute("data-edges"))

    # Toy KB + hostile record: 6 papers, 4 lineage edges and 1 citation; 2412.02104 has no link at all.
    assert drawn() == (5, 5)
    assert page.evaluate("() => window.kbGraph.getElementById('2412.02104').visible()") is False
    assert page.locator("#kb-graph canvas").count() > 0
    # Nodes are sized by their links: the probe (4 links) is drawn wider than the benchmark it cites (2).
    widths = page.evaluate("() => ['toy-attention-probe', '2305.10355'].map(id => window.kbGraph.getElementById(id).width())")
    assert widths[0] > widths[1]
    page.uncheck("#kb-graph-lineage")  # citations only: the probe and the one paper it cites
    assert drawn() == (2, 1)
    page.check("#kb-graph-unlinked")
    assert drawn() == (6, 1)
    assert page.evaluate("() => window.kbGraph.getElementById('2412.02104').visible()") is True
    page.check("#kb-graph-lineage")
    assert drawn() == (6, 5)
    page.uncheck("#kb-graph-unlinked")
    page.uncheck("#kb-graph-cites")  # lineage only: still 5 linked papers, 4 edges
    assert drawn() == (5, 4)
    page.check("#kb-graph-cites")
    # A real mouse click on the drawn node (emitting 'tap' from page.evaluate delays the navigation ~12 s).
    # Scroll below the sticky header, then let the scroll event reach cytoscape, which caches the box's position.
    x, y, hit = page.evaluate("""async () => { const box = document.getElementById('kb-graph');
                                         box.scrollIntoView({block: 'end'});
                                         await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
                                         const p = window.kbGraph.getElementById('2305.10355').renderedPosition();
                                         const r = box.getBoundingClientRect(), x = r.left + p.x, y = r.top + p.y;
                                         return [x, y, document.elementFromPoint(x, y)?.tagName]; }""")
    assert hit == "CANVAS", (x, y, hit)
    page.mouse.click(x, y)
    page.wait_for_url("**/papers/2305.10355/")
    assert page.errors == []


def test_hostile_record_executes_nothing(page, site_url: str) -> None:
    for address in ("papers/hostile-record/", "areas/model.layer/", "papers/toy-attention-probe/", "graph/", "statistics/",
                    "map/", "authors/", "venues/", "tags/", "coverage/", "tags/modality/image/"):
        page.goto(site_url + address)
        page.wait_for_load_state("load")
        page.evaluate("() => document.querySelectorAll('.kb-paper *, .kb-area *').forEach(e => ['mouseover', 'focus', 'load', 'error'].forEach(t => e.dispatchEvent(new Event(t))))")
        assert page.evaluate(f"() => window.{MARK}") is None, address
        assert page.errors == [], address
    page.goto(site_url + "papers/hostile-record/")
    for link in page.locator(".kb-facts a[href]").all():  # the hostile author's and venue's own pages
        href = link.get_attribute("href")
        if "/authors/" in href or "/venues/" in href:
            page.goto(site_url + "papers/hostile-record/" + href)
            page.wait_for_load_state("load")
            assert page.evaluate(f"() => window.{MARK}") is None and page.errors == [], href
            assert "<b onmouseover" in page.locator("article").inner_text() or "<iframe" in page.locator("article").inner_text()
            page.goto(site_url + "papers/hostile-record/")
    title = page.locator("h1.kb-paper-title").inner_text()
    assert "<script>" in title and "onerror" in title  # shown as text, not run
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:", "vbscript:"))]
    handlers = page.evaluate("() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => a.name))")
    assert handlers == []
    page.goto(site_url + "search/")
    page.focus("#kb-search")
    page.wait_for_selector('#kb-search[data-ready="true"]', timeout=30000)
    page.fill("#kb-search", "hostile probe script")
    page.wait_for_selector('#kb-search-results a[data-paper-id="hostile-record"]')
    assert page.evaluate(f"() => window.{MARK}") is None


def test_hostile_taxonomy_names_are_text_in_navigation_tabs_and_chips(page, site_url: str) -> None:
    """Issue 15 #1: area and facet names reach the theme's navigation and tabs, which it renders raw."""
    for address in ("", "areas/model.layer/", "papers/hostile-record/", "statistics/"):
        page.goto(site_url + address)
        page.wait_for_load_state("load")
        page.evaluate("() => document.querySelectorAll('nav *, .md-tabs *, .kb-chip').forEach(e => ['mouseover', 'focus', 'load', 'error'].forEach(t => e.dispatchEvent(new Event(t))))")
        assert page.evaluate(f"() => window.{MARK}") is None, address
        handlers = page.evaluate("() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))")
        assert handlers == [], address
        assert page.errors == [], address
    page.goto(site_url + "areas/model.layer/")
    nav = page.locator("nav.md-nav--primary").first.text_content() or ""
    assert HOSTILE_NAMES[0][2] in nav and HOSTILE_NAMES[1][2] in nav  # shown literally, as text
    assert HOSTILE_NAMES[1][2] in page.locator("article").inner_text()  # the area's own heading
    page.goto(site_url + "papers/hostile-record/")
    body = page.locator("article").inner_text()
    assert HOSTILE_NAMES[2][2] in body and HOSTILE_NAMES[3][2].lower() in body.lower(), body


def test_browser_tokeniser_matches_python(page, site_url: str, site_root: Path) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(site_root / "build" / "search" / "index" / "tokenizer.json"))
    page.goto(site_url + "search/")
    page.focus("#kb-search")
    page.wait_for_selector('#kb-search[data-ready="true"]', timeout=30000)
    for text in ["Grad-CAM's heatmaps, LLaVA-1.5 & BLIP-2!", "Café naïve 注意力 tokens—pruning", "x" * 120 + " ok"]:
        assert page.evaluate("t => window.kbSearch.tokenise(t)", text) == tokenizer.encode(text, add_special_tokens=False).ids, text


def test_search_model_loads_on_focus_and_ranks_like_kb_search(page, site_url: str, site_root: Path) -> None:
    from kb.artefacts import Inputs
    from kb.project import Project
    from kb.search.ranking import Searcher

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(site_url + "search/")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert not [u for u in requested if "/assets/kb/search/" in u], "the search model must wait for the search box"
    page.focus("#kb-search")
    page.wait_for_selector('#kb-search[data-ready="true"]', timeout=30000)
    assert any(u.endswith("/assets/kb/search/model.bin") for u in requested)
    searcher = Searcher.open(Inputs(Project(site_root)))
    for query in ("hallucination in vision language models", "neurons specific to one modality",
                  "attention heads of a multimodal model", "contrastive decoding with a distorted image"):
        expected = [hit.id for hit in searcher.search(query, 3)]
        ranked = page.evaluate("q => window.kbSearch.rank(q)", query)
        assert ranked[:1] == expected[:1], query
        if expected:  # 4-bit token vectors: near ties may swap
            assert len(set(ranked[:3]) & set(expected[:3])) >= min(2, len(expected)), query
        else:  # the relevance floor: "no good match" in both
            assert ranked == [], query
    assert page.evaluate("q => window.kbSearch.rank(q)", "🙂🙂") == [] == [h.id for h in searcher.search("🙂🙂", 3)]
    assert page.errors == []
