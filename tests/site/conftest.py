"""One site build per session from the toy knowledge base plus a hostile record, served from loopback."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import copy_search_base

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "tests" / "data" / "toykb"
MARK = "__kbPwned"

HOSTILE = f"""# A hostile record: every text field tries to run code in a reader's browser.
id: hostile-record
title: "<script>window.{MARK}=1</script> Hostile <img src=x onerror=\\"window.{MARK}=2\\"> probe"
aliases: ["<svg onload=window.{MARK}=3>alias</svg>"]
authors: ["<b onmouseover=\\"window.{MARK}=4\\">Mallory</b>", "Eve [x](javascript:window.{MARK}=5)"]
year: 2024
venue: "<iframe src=javascript:window.{MARK}=6></iframe>"
links:
  project: https://example.org/?q=%22onmouseover=window.{MARK}
taxonomy: [model.layer]
modalities: [image]
contribution: analysis
summary: >-
  Raw HTML <script>window.{MARK}=8</script> and a Markdown link [click me](javascript:window.{MARK}=9) and
  an image ![x](javascript:window.{MARK}=10) and <a href="javascript:window.{MARK}=11">a tag</a> plus
  {{: onclick="window.{MARK}=12" }} attribute syntax and <div onmouseover="window.{MARK}=13">a div</div>.
findings:
  - "<img src=x onerror=window.{MARK}=14> finding that must render as text"
builds_on:
  - {{id: toy-attention-probe, relation: extends, note: "<script>window.{MARK}=15</script>"}}
"""


# Taxonomy names are maintainers' text, but they reach the navigation, the tabs, chips and legends:
# (file, plain name, hostile name). Each still passes `kb validate`; each must render as text.
HOSTILE_NAMES = [
    ("areas.yaml", "Model", f"Model<img src=x onerror=window.{MARK}=16>"),
    ("areas.yaml", "Layer level", f"Layer level<img src=x onerror=\"window.{MARK}=17\">"),
    ("facets.yaml", "Image", f"Image<svg onload=window.{MARK}=18>"),
    ("facets.yaml", "Extends", f"Extends<script>window.{MARK}=19</script>"),
]


def _hostile_taxonomy(root: Path) -> None:
    for file, plain, hostile in HOSTILE_NAMES:
        path = root / "taxonomy" / file
        text = path.read_text(encoding="utf-8")
        assert f"name: {plain}\n" in text, plain
        path.write_text(text.replace(f"name: {plain}\n", f"name: {json.dumps(hostile)}\n", 1), encoding="utf-8")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site") / "kb"
    shutil.copytree(TOY, root)
    (root / "papers" / "hostile-record.yaml").write_text(HOSTILE, encoding="utf-8")
    _hostile_taxonomy(root)
    shutil.copytree(REPO / "site", root / "site")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    # The static model's token vectors are distilled from the shipped transformer (~45 s of torch);
    # reuse the repository's cached copy when there is one (its manifest names the source it checks).
    copy_search_base(root)
    script = Path(sys.executable).parent / "kb"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kb"]
    result = subprocess.run([*command, "site", "build", "--no-xai"], cwd=root, capture_output=True, text=True, timeout=1200, env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0, result.stderr + result.stdout
    return root


@pytest.fixture(scope="session")
def site_url(site_root: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site_root / "build" / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium()
    if executable is None:
        if os.environ.get("KB_REQUIRE_BROWSER") == "1":
            pytest.fail("KB_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("chromium is not installed; set KB_REQUIRE_BROWSER=1 to make this a failure")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.errors.append("dialog: " + dialog.message), dialog.dismiss()))  # type: ignore[attr-defined]
    yield page
    context.close()
