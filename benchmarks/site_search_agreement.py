"""Does the browser search rank like `kb search`? And what does it cost a reader to download and use?

    python benchmarks/site_search_agreement.py [--root KB] [--runs 5] [--json]

Needs a built site (`kb site build`). Serves build/site/ from loopback and drives the real search page
in headless Chromium (Debian's /usr/bin/chromium through Playwright):

- agreement: every need of tests/search/data/needs.yaml and heldout.yaml is typed into #kb-search; the
  first 10 result links (`data-paper-id`) are compared with `kb search`'s hybrid top 10 (kb.search in
  this process): top-1 agreement, overlap@10, and nDCG@10 / Recall@10 of both rankings against the
  same judgements;
- cost: a fresh browser context per run (cold cache): bytes of the search page alone and of the search model
  fetched on first focus (uncompressed bodies), and the time from the first key typed in the header's box to
  the first result, unthrottled and on Chromium DevTools' "Fast 4G" profile (9 Mbit/s down, 1.5 Mbit/s up,
  165 ms latency); medians over the runs.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import statistics
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from search_quality import DEFAULT_NEEDS, ndcg, read_needs, recall  # noqa: E402

from kb.artefacts import Inputs  # noqa: E402
from kb.project import Project  # noqa: E402
from kb.search.ranking import Searcher  # noqa: E402

K = 10
TIMED_QUERY = "which methods find neurons that fire only for images?"
FAST_4G = {"offline": False, "latency": 165, "downloadThroughput": 9_000_000 * 0.9 / 8, "uploadThroughput": 1_500_000 * 0.9 / 8}
TIMER = """() => {
  document.getElementById('kb-search').addEventListener('keydown', () => { window.kbTyped ??= performance.now(); });
  new MutationObserver(() => { if (document.querySelector('#kb-search-results a[data-paper-id]')) window.kbShown ??= performance.now(); })
    .observe(document.getElementById('kb-search-results'), {childList: true, subtree: true});
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def browser_rankings(page: Any, url: str, queries: list[str]) -> list[list[str]]:
    page.goto(url + "search/")
    page.click("#kb-search")
    page.wait_for_selector('#kb-search[data-ready="true"]', timeout=60000)
    out = []
    for query in queries:
        page.fill("#kb-search", query)
        page.wait_for_function("q => document.getElementById('kb-search-results').dataset.query === q", arg=query, timeout=30000)
        out.append(page.eval_on_selector_all("#kb-search-results a[data-paper-id]", "els => els.map(e => e.dataset.paperId)")[:K])
    return out


def agreement(searcher: Searcher, page: Any, url: str, path: Path) -> dict[str, float]:
    needs = read_needs(path)
    present = set(searcher.index.ids)
    needs = [(q, set(r) & present) for q, r in needs if set(r) & present]
    browser = browser_rankings(page, url, [q for q, _ in needs])
    rows = []
    for (query, judged), seen in zip(needs, browser, strict=True):
        python = [h.id for h in searcher.search(query, K)]
        rows.append({
            "top1": float(python[:1] == seen[:1]),
            "overlap": len(set(python) & set(seen)) / K,
            "ndcg_browser": ndcg(seen, judged), "recall_browser": recall(seen, judged),
            "ndcg_kb": ndcg(python, judged), "recall_kb": recall(python, judged),
        })
    return {"needs": len(rows), **{key: round(statistics.mean(r[key] for r in rows), 3) for key in rows[0]}}


def cost(browser: Any, url: str, runs: int) -> dict[str, float]:
    page_only, model, first, first_4g = [], [], [], []
    for run in range(runs * 2):
        throttled = run % 2 == 1
        context = browser.new_context()
        page = context.new_page()
        client = context.new_cdp_session(page)
        client.send("Network.enable")
        client.send("Network.setCacheDisabled", {"cacheDisabled": True})
        if throttled:
            client.send("Network.emulateNetworkConditions", FAST_4G)
        responses: list[Any] = []
        page.on("response", lambda r, out=responses: out.append(r))
        page.goto(url, wait_until="load")  # the home page: the search is in every header
        page.evaluate(TIMER)
        page.click("#kb-search")
        page.keyboard.type(TIMED_QUERY, delay=60)
        shown = page.wait_for_function("() => window.kbShown && window.kbShown - window.kbTyped", timeout=60000).json_value()
        page.wait_for_selector('#kb-search[data-ready="true"]')
        page.wait_for_timeout(300)
        sizes = {r.url: len(r.body()) for r in responses if r.status < 300}
        in_model = sum(n for u, n in sizes.items() if "/assets/kb/search/" in u or "/porter2/" in u)
        (first_4g if throttled else first).append(shown)
        if not throttled:
            model.append(in_model)
            page_only.append(sum(sizes.values()) - in_model)
        context.close()
    return {
        "page_bytes": statistics.median(page_only),
        "model_bytes": statistics.median(model),
        "first_result_ms": round(statistics.median(first)),
        "first_result_fast_4g_ms": round(statistics.median(first_4g)),
    }


def search_files(site: Path) -> dict[str, int]:
    folder = site / "assets" / "kb" / "search"
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--needs", type=Path, nargs="*", default=DEFAULT_NEEDS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    project = Project.find(args.root)
    site = project.build_dir / "site"
    if not (site / "index.html").is_file():
        raise SystemExit(f"{site}: no built site; run `kb site build` first")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise SystemExit("needs chromium on PATH")
    from playwright.sync_api import sync_playwright

    searcher = Searcher.open(Inputs(project))
    results: dict[str, Any] = {"files": search_files(site)}
    with serve(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        for path in args.needs:
            results[path.stem] = agreement(searcher, page, url, path)
        results["cost"] = cost(browser, url, args.runs)
        results["page_errors"] = errors
        browser.close()
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return
    total = sum(results["files"].values())
    print(f"search files: {total / 1024 / 1024:.2f} MiB ({', '.join(f'{k} {v / 1024:.0f} KiB' for k, v in results['files'].items())})")
    for path in args.needs:
        row = results[path.stem]
        print(f"{path.stem}: {row['needs']} needs, top-1 agreement {row['top1']:.3f}, overlap@10 {row['overlap']:.3f}, "
              f"nDCG@10 browser {row['ndcg_browser']:.3f} / kb {row['ndcg_kb']:.3f}, Recall@10 browser {row['recall_browser']:.3f} / kb {row['recall_kb']:.3f}")
    c = results["cost"]
    print(f"cold cache, median of {args.runs}: home page {c['page_bytes'] / 1024:.0f} KiB, search model {c['model_bytes'] / 1024:.0f} KiB "
          f"(on first focus); first key to first result {c['first_result_ms']} ms, on Fast 4G {c['first_result_fast_4g_ms']} ms")
    if results["page_errors"]:
        print("page errors:", results["page_errors"])


if __name__ == "__main__":
    main()
