"""Does the browser search rank like `kb search`? And what does it cost a reader to download and use?

    python benchmarks/site_search_agreement.py [--root KB] [--runs 5] [--json]

Needs a built site (`kb site build`). Serves build/site/ from loopback and drives the real search page
in headless Chromium (Debian's /usr/bin/chromium through Playwright):

- agreement: every need of tests/search/data/needs.yaml and heldout.yaml is typed into #kb-search; the
  first 10 result links (`data-paper-id`) are compared with `kb search`'s hybrid top 10 (kb.search in
  this process): top-1 agreement, overlap@10, and nDCG@10 / Recall@10 of both rankings against the
  same judgements;
- cost: a fresh browser context per run (cold cache): bytes transferred for the search page alone,
  then after focusing the box (the model loads), and the time from navigation start to the first
  result for a typed query; medians over the runs.
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
    page.focus("#kb-search")
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
    page_only, model, keyword, first_result, after_focus = [], [], [], [], []
    for _ in range(runs):
        context = browser.new_context()
        page = context.new_page()
        client = context.new_cdp_session(page)
        client.send("Network.enable")
        client.send("Network.setCacheDisabled", {"cacheDisabled": True})
        urls: dict[str, str] = {}
        received: dict[str, int] = {}
        client.on("Network.requestWillBeSent", lambda e, u=urls: u.__setitem__(e["requestId"], e["request"]["url"]))
        client.on("Network.loadingFinished", lambda e, r=received: r.__setitem__(e["requestId"], int(e["encodedDataLength"])))
        page.goto(url + "search/", wait_until="load")
        focused = page.evaluate("() => performance.now()")
        page.focus("#kb-search")
        page.keyboard.type(TIMED_QUERY, delay=0)
        page.wait_for_selector("#kb-search-results a[data-paper-id]", timeout=60000)
        shown = page.evaluate("() => performance.now()")  # milliseconds since navigation started
        first_result.append(shown)
        after_focus.append(shown - focused)
        page.wait_for_timeout(500)
        parts = {"model": 0, "keyword": 0, "page": 0}
        for request, size in received.items():
            address = urls.get(request, "")
            kind = "model" if ("/assets/kb/search/" in address or "/porter2/" in address) else "keyword" if address.endswith("search_index.json") else "page"
            parts[kind] += size
        page_only.append(parts["page"])
        model.append(parts["model"])
        keyword.append(parts["keyword"])
        context.close()
    return {
        "page_bytes": statistics.median(page_only),
        "model_bytes": statistics.median(model),
        "mkdocs_keyword_index_bytes": statistics.median(keyword),
        "navigation_to_first_result_ms": round(statistics.median(first_result)),
        "focus_to_first_result_ms": round(statistics.median(after_focus)),
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
    if not (site / "search" / "index.html").is_file():
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
    print(f"cold cache, median of {args.runs}: search page {c['page_bytes'] / 1024:.0f} KiB, browser search model {c['model_bytes'] / 1024 / 1024:.2f} MiB "
          f"(after focus), mkdocs-material keyword index {c['mkdocs_keyword_index_bytes'] / 1024:.0f} KiB; navigation to first result "
          f"{c['navigation_to_first_result_ms']} ms (focus to first result {c['focus_to_first_result_ms']} ms)")
    if results["page_errors"]:
        print("page errors:", results["page_errors"])


if __name__ == "__main__":
    main()
