"""Loopback stand-ins speaking the real formats: arXiv's export API (Atom listings in pages and id_list
answers), Semantic Scholar's batch endpoint (with 429s), and a web server for the link check. Every paper,
name and text they serve is fictitious and our own."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import TOY, copy_search_base, kb_executable
from tests.upkeep import curated

FEED_HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<!-- A loopback stand-in for arXiv's export API (2026 Atom format); every entry is fictitious. -->
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/kb-stand-in</id>
  <title>arXiv Query: kb stand-in</title>
  <updated>2026-11-30T00:00:00Z</updated>
  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
"""


@dataclass
class Entry:
    id: str
    title: str
    abstract: str
    published: str  # YYYY-MM-DD
    authors: list[str] = field(default_factory=lambda: ["Ada Example", "Bo Tester"])
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    malformed: bool = False  # no <published>: the arxiv package drops such an entry

    def xml(self) -> str:
        parts = [
            f"  <entry>\n    <id>http://arxiv.org/abs/{self.id}v1</id>",
            f"    <updated>{self.published}T00:00:00Z</updated>",
        ]
        if not self.malformed:
            parts.append(f"    <published>{self.published}T00:00:00Z</published>")
        parts.append(f"    <title>{escape(self.title)}</title>\n    <summary>{escape(self.abstract)}</summary>")
        parts += [f"    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in self.authors]
        for tag, value in (("comment", self.comment), ("journal_ref", self.journal_ref), ("doi", self.doi)):
            if value:
                parts.append(f"    <arxiv:{tag}>{escape(value)}</arxiv:{tag}>")
        parts.append(f'    <link href="https://arxiv.org/abs/{self.id}v1" rel="alternate" type="text/html"/>')
        parts.append(
            '    <arxiv:primary_category term="cs.CV"/>\n    <category term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>'
        )
        return "\n".join(parts) + "\n  </entry>\n"


def feed(entries: list[Entry], total: int, start: int, per_page: int) -> bytes:
    return (
        FEED_HEAD.format(total=total, start=start, per_page=per_page) + "".join(e.xml() for e in entries) + "</feed>\n"
    ).encode()


@dataclass
class Services:
    url: str = ""
    listing: list[Entry] = field(default_factory=list)  # newest first
    papers: dict[str, Entry] = field(default_factory=dict)  # for id_list answers
    arxiv_status: int = 200
    arxiv_delay: float = 0.0
    arxiv_garbage: bool = False
    empty_once: set[int] = field(default_factory=set)  # listing starts answered once with an empty page
    empty_always: set[int] = field(default_factory=set)
    references: dict[str, list[str] | None] = field(default_factory=dict)  # arXiv id -> cited arXiv ids (None: unknown)
    s2_throttle: int = 0  # the next this-many batch requests get 429
    s2_answers_before_throttle: int | None = None  # after this many answered batches, every request gets 429
    s2_retry_after: str = "0"
    requests: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            "KB_ARXIV_API_URL": f"{self.url}/api/query",
            "KB_CITATIONS_API_URL": f"{self.url}/graph/v1",
            "KB_ARXIV_DELAY": "0",
        }

    def listing_requests(self) -> list[dict[str, list[str]]]:
        return [
            parse_qs(urlparse(r).query)
            for r in self.requests
            if r.startswith("GET /api/query") and "search_query=%28" in r
        ]


@pytest.fixture
def services() -> Iterator[Services]:
    state = Services()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped waiting (the timeout tests)

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            state.requests.append(f"GET {self.path}")
            parsed = urlparse(self.path)
            if parsed.path != "/api/query":
                self._send(404, b"{}", "application/json")
                return
            if state.arxiv_delay:
                time.sleep(state.arxiv_delay)
            if state.arxiv_status != 200:
                self._send(state.arxiv_status, b"<html><body>Service Unavailable</body></html>", "text/html")
                return
            if state.arxiv_garbage:
                self._send(200, b"<html><body>an error page, not a feed", "application/atom+xml")
                return
            query = parse_qs(parsed.query)
            start = int(query.get("start", ["0"])[0])
            per_page = int(query.get("max_results", ["10"])[0])
            ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
            if ids:
                found = [state.papers[i] for i in ids if i in state.papers]
                self._send(200, feed(found, len(found), 0, per_page), "application/atom+xml; charset=utf-8")
                return
            page = state.listing[start : start + per_page]
            if start in state.empty_always or start in state.empty_once:
                state.empty_once.discard(start)
                page = []
            self._send(200, feed(page, len(state.listing), start, per_page), "application/atom+xml; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(f"POST {self.path}")
            if not urlparse(self.path).path == "/graph/v1/paper/batch":
                self._send(404, b'{"error": "not found"}', "application/json")
                return
            if state.s2_answers_before_throttle is not None:
                if state.s2_answers_before_throttle <= 0:
                    state.s2_throttle = 1
                state.s2_answers_before_throttle -= 1
            if state.s2_throttle > 0:
                state.s2_throttle -= 1
                self._send(
                    429, b'{"message": "Too Many Requests"}', "application/json", {"Retry-After": state.s2_retry_after}
                )
                return
            answer = []
            for asked in json.loads(body)["ids"]:
                cited = state.references.get(asked.removeprefix("arXiv:"))
                if cited is None:
                    answer.append(None)
                    continue
                refs = [{"paperId": f"{n:040d}", "externalIds": {"ArXiv": c}} for n, c in enumerate(cited, 1)]
                refs.append({"paperId": None, "externalIds": None})  # a reference Semantic Scholar could not resolve
                answer.append(
                    {
                        "paperId": "0" * 40,
                        "externalIds": {"ArXiv": asked.removeprefix("arXiv:")},
                        "referenceCount": len(refs),
                        "references": refs,
                    }
                )
            self._send(200, json.dumps(answer).encode(), "application/json")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def curated_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The curated toy knowledge base with a discovery model trained on it (`kb discover --train`), built once."""
    root = tmp_path_factory.mktemp("curated") / "kb"
    shutil.copytree(TOY, root)
    bulk = curated.make(root)
    copy_search_base(root)
    done = subprocess.run(
        [*kb_executable(), "discover", str(bulk), "--train"], cwd=root, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def curated_root(curated_build: Path, tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(curated_build, root, symlinks=True)
    return root
