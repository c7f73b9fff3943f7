"""Issue 12 in headless Chromium: one search in every header, tag pages, reference-manager metadata, tables,
the map and neighbourhood, dark mode, page weights and a throttled first result (the toy site of conftest.py)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.browser

PAPER = "2311.16922"  # Visual Contrastive Decoding: CVPR 2024, seven authors, contrastive decoding
# Chromium DevTools' "Fast 4G" preset (9 Mbit/s down, 1.5 Mbit/s up, 60 ms x 2.75 latency, each rate at 90 %).
FAST_4G = {"offline": False, "latency": 165, "downloadThroughput": 9_000_000 * 0.9 / 8, "uploadThroughput": 1_500_000 * 0.9 / 8}
KIB = 1024


def searcher(site_root: Path):  # type: ignore[no-untyped-def]
    from kb.artefacts import Inputs
    from kb.project import Project
    from kb.search.ranking import Searcher

    return Searcher.open(Inputs(Project(site_root)))


def settings(site_root: Path):  # type: ignore[no-untyped-def]
    from kb.site.settings import read

    return read(site_root)


def header_search(page, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    page.click("#kb-search")
    page.wait_for_selector('#kb-search[data-ready="true"]', timeout=30000)
    page.fill("#kb-search", query)
    page.wait_for_function("q => document.getElementById('kb-search-results').dataset.query === q", arg=query, timeout=30000)
    return page.eval_on_selector_all("#kb-search-results a[data-paper-id]", "els => els.map(e => e.dataset.paperId)")  # type: ignore[no-any-return]


def test_one_search_in_every_header_finds_by_author_id_acronym_title_and_meaning(page, site_url: str, site_root: Path) -> None:
    for address in ("", f"papers/{PAPER}/", "areas/model.layer/", "statistics/", "tags/", "map/", "authors/", "search/"):
        page.goto(site_url + address)
        assert page.locator("header input#kb-search").count() == 1, address
        assert page.locator("input#kb-search").count() == 1, address
    search = searcher(site_root)
    page.goto(site_url + "areas/model.layer/")
    cases = {
        "Sicong Leng": (PAPER, "author"), "2410.04819": ("2410.04819", "arXiv id"), "arXiv:2311.16922v2": (PAPER, "arXiv id"),
        "VCD": (PAPER, "acronym"), "MINER": ("2410.04819", "title"),
        "decoding that subtracts what the model predicts from a distorted copy of the image": (PAPER, ""),
    }
    for query, (expected, kind) in cases.items():
        shown = header_search(page, query)
        assert shown[:1] == [expected], query
        hit = search.search(query, 1)[0]
        assert page.evaluate("q => window.kbSearch.matches(q)[0]", query) == [hit.id, hit.match] == [expected, kind], query
    page.click(f'#kb-search-results a[data-paper-id="{PAPER}"]')  # the drop-down's first result opens the paper
    page.wait_for_url(f"**/papers/{PAPER}/")
    assert page.errors == []


def test_a_query_nothing_answers_says_no_good_match(page, site_url: str, site_root: Path) -> None:
    page.goto(site_url)
    assert header_search(page, "banana bread recipe") == []
    status = page.locator("#kb-search-status")
    assert status.get_attribute("data-state") == "none" and "No good match" in status.inner_text()
    assert searcher(site_root).search("banana bread recipe") == []
    assert header_search(page, "hallucination")  # a real question still answers
    assert page.errors == []


def test_search_page_filters_and_query_live_in_the_address(page, site_url: str) -> None:
    page.goto(site_url + "search/?query=hallucination&year=2023")
    page.wait_for_selector("#kb-search-results a[data-paper-id]", timeout=30000)
    ids = page.eval_on_selector_all("#kb-search-results a[data-paper-id]", "els => els.map(e => e.dataset.paperId)")
    assert set(ids) == {"2305.10355", PAPER}
    assert page.input_value("#kb-search") == "hallucination"
    assert page.input_value('select[data-facet="year-from"]') == "2023" == page.input_value('select[data-facet="year-to"]')
    page.select_option('select.kb-filter[data-facet="contribution"]', "benchmark")
    page.wait_for_function("() => [...document.querySelectorAll('#kb-search-results a[data-paper-id]')].map(a => a.dataset.paperId).join() === '2305.10355'")
    assert "contribution=benchmark" in page.url and "query=hallucination" in page.url and "year=2023" in page.url
    page.reload()
    page.wait_for_selector("#kb-search-results a[data-paper-id]", timeout=30000)
    assert page.eval_on_selector_all("#kb-search-results a[data-paper-id]", "els => els.map(e => e.dataset.paperId)") == ["2305.10355"]
    for key in ("area", "modality", "model"):  # the filters the issue asks for, besides year and contribution
        assert page.locator(f'select.kb-filter[data-facet="{key}"]').count() == 1, key
    assert page.errors == []


def test_every_chip_and_cell_leads_to_a_tag_page_with_papers_per_year(page, site_url: str) -> None:
    page.goto(site_url + f"papers/{PAPER}/")
    page.click('.kb-facts a.kb-chip[data-facet="method_family"]')
    page.wait_for_url("**/tags/method-family/contrastive-decoding/")
    assert page.locator(f'table.kb-papers a[data-paper-id="{PAPER}"]').count() == 1
    assert page.locator("svg.kb-chart").count() == 1 and "papers per year" in page.locator(".kb-chart-title").inner_text()
    for link, address in (("Sicong Leng", "**/authors/sicong-leng/"), ("CVPR 2024", "**/venues/cvpr/")):
        page.goto(site_url + f"papers/{PAPER}/")
        page.click(f'.kb-facts a:text-is("{link}")')
        page.wait_for_url(address)
        assert page.locator(f'a[data-paper-id="{PAPER}"]').count() >= 1, link
    page.goto(site_url + "areas/model/")
    chips = page.locator("table.kb-papers .kb-chip")
    assert chips.count() > 5
    assert page.eval_on_selector_all("table.kb-papers .kb-chip", "els => els.every(e => e.tagName === 'A' && e.getAttribute('href').includes('tags/'))")
    model = page.locator('table.kb-papers a.kb-chip:text-is("LLaVA-1.5")').first
    model.click()
    page.wait_for_url("**/tags/model/llava-1-5/")
    assert page.locator('a[data-paper-id="toy-attention-probe"]').count() == 1
    assert page.locator('table.kb-papers td[data-label="Authors"] a').first.get_attribute("href").startswith("../../../authors/")
    assert page.errors == []


def test_coverage_matrix_shows_empty_cells_and_opens_filtered_papers(page, site_url: str) -> None:
    page.goto(site_url + "coverage/")
    assert page.locator("td.kb-cov-empty").count() >= 1
    hit = page.locator("td.kb-cov-hit a").first
    assert hit.count() == 1
    hit.click()
    page.wait_for_url(re.compile(r".*/tags/model/[^/]+/\?method_family=.+"))
    shown = int(page.locator("table.kb-papers").get_attribute("data-shown"))
    assert shown >= 1 and page.locator("table.kb-papers tbody tr:visible").count() == shown
    assert page.input_value('select.kb-filter[data-facet="method_family"]') != ""
    assert page.errors == []


def test_paper_page_speaks_to_reference_managers(page, site_url: str, site_root: Path) -> None:
    site = settings(site_root)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(site_url + f"papers/{PAPER}/")

    def meta(name: str) -> list[str]:
        return page.eval_on_selector_all(f'meta[name="{name}"]', "els => els.map(e => e.content)")  # type: ignore[no-any-return]

    assert meta("citation_title") == ["Mitigating Object Hallucinations in Large Vision-Language Models through Visual Contrastive Decoding"]
    assert meta("citation_author")[:2] == ["Sicong Leng", "Hang Zhang"] and len(meta("citation_author")) == 7
    assert meta("citation_conference_title") == ["CVPR 2024"] and meta("citation_publication_date") == ["2024"]
    assert meta("citation_pdf_url") == [f"https://arxiv.org/pdf/{PAPER}"] and meta("citation_arxiv_id") == [PAPER]
    assert meta("citation_abstract_html_url") == [f"https://arxiv.org/abs/{PAPER}"]
    assert meta("description")[0].startswith("Proposes Visual Contrastive Decoding")
    assert page.locator('link[rel="canonical"]').get_attribute("href") == site.site_url + f"papers/{PAPER}/"
    assert page.locator(f'a[href="https://arxiv.org/abs/{PAPER}"]').count() >= 1 and page.locator(f'a[href="https://arxiv.org/pdf/{PAPER}"]').count() == 1
    assert page.locator('a:text-is("Edit this record")').get_attribute("href") == f"{site.repo_url}/edit/main/papers/{PAPER}.yaml"
    assert page.locator('a:text-is("Report a problem")').get_attribute("href").startswith(f"{site.repo_url}/issues/new?")
    assert page.locator("header a.md-source").get_attribute("href") == site.repo_url
    bibtex = page.locator("#kb-bibtex-text").inner_text()
    assert bibtex.startswith("@inproceedings{") and "booktitle = {CVPR 2024}" in bibtex
    page.click("button.kb-copy")  # a real mouse click: the button must be on top and clickable
    assert page.evaluate("() => navigator.clipboard.readText()").strip() == bibtex.strip()
    assert page.locator("button.kb-copy").inner_text() == "Copied"
    page.goto(site_url + "papers/toy-attention-probe/")
    assert page.locator('.kb-code-link a[href="https://example.org/toy-probe"]').inner_text() == "Official code"
    page.goto(site_url + "contributing/")
    suggest = page.locator(f'a[href^="{site.repo_url}/issues/new?template=suggest-paper.yml"]')
    assert suggest.count() >= 1
    assert page.errors == []


def test_sitemap_lists_every_page_with_its_canonical_address(site_root: Path) -> None:
    site = site_root / "build" / "site"
    base = settings(site_root).site_url
    assert base, "mkdocs.yml sets site_url"
    pages = {base + ("" if p.parent == site else p.parent.relative_to(site).as_posix() + "/") for p in site.rglob("index.html")}
    text = (site / "sitemap.xml").read_text(encoding="utf-8")
    listed = set(re.findall(r"<loc>(.*?)</loc>", text))
    assert listed == pages and len(pages) > 40
    assert base + f"papers/{PAPER}/" in listed and base + "authors/sicong-leng/" in listed and base + "tags/model/llava-1-5/" in listed
    assert gzip.decompress((site / "sitemap.xml.gz").read_bytes()).decode() == text
    assert not (site / "_shell").exists()


def test_area_table_sorts_on_every_column_filters_by_title_and_keeps_state_in_the_address(page, site_url: str) -> None:
    page.goto(site_url + "areas/model/")
    columns = page.eval_on_selector_all("table.kb-papers thead th", "els => els.map(e => e.dataset.column)")
    assert columns[:5] == ["year", "title", "authors", "venue", "code"] and {"modality", "model", "method_family"} <= set(columns)

    def column_values(column: str) -> list[str]:
        return page.evaluate("""c => { const i = [...document.querySelectorAll('table.kb-papers thead th')].findIndex(t => t.dataset.column === c);
                                  return [...document.querySelectorAll('table.kb-papers tbody tr')].filter(r => !r.hidden).map(r => r.cells[i].dataset.sort); }""", column)

    for column in columns:
        page.click(f'table.kb-papers th[data-column="{column}"] button')
        direction = page.get_attribute(f'table.kb-papers th[data-column="{column}"]', "aria-sort")
        values = [v for v in column_values(column) if v]
        key = (lambda v: float(v)) if column in ("year", "code") else (lambda v: v)
        assert values == sorted(values, key=key, reverse=direction == "descending"), column
    page.click('table.kb-papers th[data-column="title"] button')
    page.click('table.kb-papers th[data-column="title"] button')
    assert page.get_attribute('table.kb-papers th[data-column="title"]', "aria-sort") == "descending"
    page.fill("input.kb-filter-title", "probe")
    total = page.locator("table.kb-papers tbody tr").count()
    visible = page.locator("table.kb-papers tbody tr:visible").count()
    assert 0 < visible < total
    assert page.locator(".kb-shown").inner_text() == f"{visible} of {total} papers"
    assert "sort=title" in page.url and "dir=desc" in page.url and "title=probe" in page.url
    order = page.eval_on_selector_all("table.kb-papers tbody tr:not([hidden]) a[data-paper-id]", "els => els.map(e => e.dataset.paperId)")
    page.goto(page.url)  # a shared link opens in the same state
    assert page.input_value("input.kb-filter-title") == "probe"
    assert page.eval_on_selector_all("table.kb-papers tbody tr:not([hidden]) a[data-paper-id]", "els => els.map(e => e.dataset.paperId)") == order
    page.click("button.kb-reset")
    assert page.locator("table.kb-papers tbody tr:visible").count() == total and "title=" not in page.url and "sort=" not in page.url
    width = page.evaluate("() => [document.querySelector('table.kb-papers').getBoundingClientRect().width, window.innerWidth]")
    assert width[0] > 0.85 * width[1]  # the full width on a desktop
    assert page.errors == []


WORDS_ON_ONE_LINE = """() => {
  const broken = [];
  for (const link of document.querySelectorAll('td.kb-title-cell a, h1, .kb-paper-list a, #kb-search-results a')) {
    for (const node of link.childNodes) {
      if (node.nodeType !== 3) continue;
      let at = 0;
      for (const word of node.textContent.split(' ')) {
        // The shared site carries hostile test names (one long "word" of markup): not a word a reader wraps.
        if (word && !word.includes('-') && !word.includes('__kbPwned')) {
          const range = document.createRange();
          range.setStart(node, at); range.setEnd(node, at + word.length);
          const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
          if (tops.size > 1) broken.push(word);
        }
        at += word.length + 1;
      }
    }
  }
  return broken;
}"""


def test_phone_layout_has_no_horizontal_overflow_and_no_broken_words(browser, site_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for address in ("", "areas/model/", f"papers/{PAPER}/", "tags/modality/image/", "authors/sicong-leng/", "search/?query=hallucination",
                    "statistics/", "map/", "coverage/", "tags/"):
        page.goto(site_url + address)
        page.wait_for_load_state("load")
        if "query=" in address:
            page.wait_for_selector("#kb-search-results a[data-paper-id]", timeout=30000)
        overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (address, overflow)
        assert page.evaluate(WORDS_ON_ONE_LINE) == [], address
    page.goto(site_url + "areas/model/")
    assert page.evaluate("() => getComputedStyle(document.querySelector('table.kb-papers tbody tr')).display") == "block"  # cards
    context.close()
    assert errors == []


def test_map_shows_every_paper_finds_and_opens_and_dark_mode_recolours(browser, site_url: str, site_root: Path) -> None:
    from kb.loader import load
    from kb.project import Project

    papers = len(load(Project(site_root)))
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site_url + "map/")
    assert page.locator("#kb-map .kb-map-dots a[data-paper-id]").count() == papers
    page.fill("#kb-map-find", "leng")
    assert page.get_attribute("#kb-map", "data-lit") == "1"
    label = page.locator(".kb-map-labels text")
    assert label.count() == 1 and label.text_content().startswith("Mitigating Object")
    size = page.evaluate("() => document.querySelector('.kb-map-labels text').getBoundingClientRect().height")
    assert size >= 11  # readable on screen
    assert "find=leng" in page.url

    def luminance(selector: str, prop: str = "fill") -> float:
        colour = page.evaluate("([s, p]) => getComputedStyle(document.querySelector(s))[p]", [selector, prop])
        r, g, b = (int(x) for x in re.findall(r"\d+", colour)[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    assert page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == "slate"
    assert luminance(".kb-map-labels text") > 0.6  # light text on the dark background
    page.locator(f'#kb-map a[data-paper-id="{PAPER}"]').click()
    page.wait_for_url(f"**/papers/{PAPER}/")
    # The neighbourhood: lineage, citations and nearest papers, typed edges, readable labels, dark mode.
    figure = page.locator("svg.kb-neighbourhood")
    assert figure.count() == 1
    assert page.locator("svg.kb-neighbourhood a[data-paper-id]").count() >= 3
    kinds = set(page.eval_on_selector_all("svg.kb-neighbourhood line.kb-edge", "els => els.map(e => e.getAttribute('class'))"))
    assert any("built-on-by" in k for k in kinds) and any("nearest" in k for k in kinds)
    assert luminance("svg.kb-neighbourhood a text") > 0.6
    label_height = page.evaluate("() => document.querySelector('svg.kb-neighbourhood a text').getBoundingClientRect().height")
    assert label_height >= 11
    page.goto(site_url + "statistics/")
    assert luminance("svg.kb-chart text") > 0.6
    context.close()
    assert errors == []


def _weigh(page, address: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Every response of a page view and its uncompressed body size."""
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(address)
    page.wait_for_load_state("networkidle")
    return {r.url: len(r.body()) for r in responses if r.status < 300}


def test_page_budgets(browser, site_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    paper = _weigh(page, site_url + f"papers/{PAPER}/")
    assert sum(paper.values()) <= 450 * KIB, sorted(paper.items(), key=lambda kv: -kv[1])[:5]
    # The theme fetched sitemap.xml beside every alternate link (the feeds): 450 KiB a view on the real site.
    assert not [u for u in paper if "sitemap" in u] and failed == []
    assert not [u for u in paper if "/assets/kb/search/" in u or "search_index" in u], "no search model or keyword index with a page"
    page.close()
    page = context.new_page()
    stats = _weigh(page, site_url + "statistics/")
    assert sum(stats.values()) <= 1024 * KIB and not [u for u in stats if "plotly" in u]
    page.close()
    page = context.new_page()
    before = _weigh(page, site_url + "search/")
    assert not [u for u in before if "/assets/kb/search/" in u]
    model: list[tuple[str, int]] = []
    page.on("response", lambda r: model.append((r.url, r)) if "/assets/kb/search/" in r.url or "porter2" in r.url else None)
    page.click("#kb-search")
    page.wait_for_selector('#kb-search[data-ready="true"]', timeout=30000)
    sizes = {url: len(r.body()) for url, r in model}
    assert any(u.endswith("model.bin") for u in sizes) and sum(sizes.values()) <= 1024 * KIB
    context.close()


def test_first_result_within_a_second_and_a_half_of_typing_on_throttled_4g(browser, site_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", FAST_4G)
    page.goto(site_url)
    page.wait_for_load_state("load")
    # Timed inside the page (typing blocks the test until the last key): first key down -> first result drawn.
    page.evaluate("""() => {
      document.getElementById('kb-search').addEventListener('keydown', () => { window.kbTyped ??= performance.now(); });
      new MutationObserver(() => { if (document.querySelector('#kb-search-results a[data-paper-id]')) window.kbShown ??= performance.now(); })
        .observe(document.getElementById('kb-search-results'), {childList: true, subtree: true});
    }""")
    page.click("#kb-search")
    page.keyboard.type("contrastive decoding with a distorted image", delay=40)
    elapsed = page.wait_for_function("() => window.kbShown && window.kbShown - window.kbTyped", timeout=30000).json_value()
    assert elapsed <= 1500, f"first result {elapsed:.0f} ms after the first key"
    context.close()


def test_the_real_sites_search_download_stays_within_its_budget() -> None:
    """The budget (1 MiB uncompressed for what the search fetches on first use) on the real corpus, not only
    the toy one: CI's main job has just built it. The figure grows with the corpus (~0.2 KiB a paper); when
    this fails, prune or quantise in kb.site.search_assets and re-check agreement
    (benchmarks/site_search_agreement.py)."""
    site = REPO / "build" / "site"
    search = site / "assets" / "kb" / "search"
    if not search.is_dir():
        pytest.skip("the real site is not built (README command 1 builds it)")
    files = [*search.iterdir(), site / "assets" / "vendor" / "porter2" / "porter2.js"]
    total = sum(path.stat().st_size for path in files)
    assert {p.name for p in files} >= {"meta.json", "words.txt", "papers.json", "model.bin", "porter2.js"}
    assert total <= 1024 * KIB, {p.name: p.stat().st_size for p in files}
