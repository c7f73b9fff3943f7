"""`kb links` against a loopback web server answering 200, 301, 404, 405-to-HEAD, and never."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kb import links


@pytest.fixture
def web() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def answer(self, body: bool) -> None:
            seen.append(f"{self.command} {self.path}")
            if self.path == "/never":
                time.sleep(3)
                return
            status, headers = {
                "/ok": (200, {}),
                "/moved": (301, {"Location": "/ok"}),
                "/gone": (404, {}),
                "/no-head": (405 if self.command == "HEAD" else 200, {}),
            }.get(self.path, (404, {}))
            payload = b"<html><body>a page</body></html>"
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if body:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_HEAD(self) -> None:  # noqa: N802
            self.answer(body=False)

        def do_GET(self) -> None:  # noqa: N802
            self.answer(body=True)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_link_check_reports_dead_links_only(web: tuple[str, list[str]]) -> None:
    url, seen = web
    found = [
        links.Link("papers/a.yaml", "links.code", f"{url}/{name}")
        for name in ("ok", "moved", "gone", "no-head", "never")
    ]
    results = {r.link.url.rsplit("/", 1)[1]: r for r in links.check(found, timeout=1, concurrency=4)}
    assert not results["ok"].dead and results["ok"].status == 200
    assert not results["moved"].dead and results["moved"].final_url == f"{url}/ok"
    assert results["gone"].dead and results["gone"].problem == "HTTP 404"
    assert not results["no-head"].dead and "GET /no-head" in seen  # HEAD refused, GET answered
    assert results["never"].dead and results["never"].problem == "no answer within 1 s"
    assert "GET /ok" not in seen  # a HEAD that works is enough


def test_kb_links_lists_dead_links_with_file_and_field(toy_root: Path, run_kb, web: tuple[str, list[str]]) -> None:
    url, _ = web
    probe = toy_root / "papers" / "toy-attention-probe.yaml"  # its example.org link is not reachable from a test
    probe.write_text(
        probe.read_text(encoding="utf-8").replace("  code: https://example.org/toy-probe\n", ""), encoding="utf-8"
    )
    path = toy_root / "papers" / "2305.10355.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "  arxiv: '2305.10355'", f"  arxiv: '2305.10355'\n  code: {url}/gone\n  project: {url}/moved"
        )
    )
    out = run_kb("links", "--timeout", "2", cwd=toy_root)
    assert out.returncode == 1
    assert out.stdout.strip() == f"papers/2305.10355.yaml: links.code: {url}/gone: HTTP 404"
    assert "1 of 2 links answer; 1 dead" in out.stderr
    data = json.loads(run_kb("links", "--json", cwd=toy_root).stdout)
    assert {(d["field"], d["status"]) for d in data} == {("links.code", 404), ("links.project", 200)}
