"""Fixtures for the contribution tests: a loopback HTTP server that answers like arXiv's export API
and Semantic Scholar's Graph API from the recorded responses in tests/contribution/data."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest

DATA = Path(__file__).parent / "data"


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str
    delay: float = 0.0


@dataclass
class Recorded:
    """Routes: arXiv answers keyed by the requested id, Semantic Scholar answers keyed by arXiv id."""

    url: str = ""
    arxiv: dict[str, Answer] = field(default_factory=dict)
    citations: dict[str, Answer] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    @property
    def arxiv_url(self) -> str:
        return f"{self.url}/api/query"

    @property
    def citations_url(self) -> str:
        return f"{self.url}/graph/v1"

    def atom(self, paper_id: str, file: str, status: int = 200, delay: float = 0.0) -> None:
        self.arxiv[paper_id] = Answer(status, (DATA / file).read_bytes(), "application/atom+xml; charset=utf-8", delay)

    def s2(self, arxiv_id: str, file: str, status: int = 200, delay: float = 0.0) -> None:
        self.citations[arxiv_id] = Answer(status, (DATA / file).read_bytes(), "application/json", delay)

    def env(self) -> dict[str, str]:
        return {"KB_ARXIV_API_URL": self.arxiv_url, "KB_CITATIONS_API_URL": self.citations_url, "KB_ARXIV_DELAY": "0"}


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    """A running loopback server; register answers with `.atom(...)` / `.s2(...)`, pass `.env()` to `kb`."""
    state = Recorded()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            state.requests.append(self.path)
            parsed = urlparse(self.path)
            answer: Answer | None = None
            if parsed.path == "/api/query":
                ids = parse_qs(parsed.query).get("id_list", [""])[0]
                answer = state.arxiv.get(ids) or Answer(200, (DATA / "not-found.atom").read_bytes(), "application/atom+xml")
            elif parsed.path.startswith("/graph/v1/paper/arXiv:") and parsed.path.endswith("/references"):
                arxiv_id = unquote(parsed.path.removeprefix("/graph/v1/paper/arXiv:").removesuffix("/references"))
                # The Graph API's 404 body names the id it was asked for.
                missing = json.dumps({"error": f"Paper with id arXiv:{arxiv_id} not found"}).encode()
                answer = state.citations.get(arxiv_id) or Answer(404, missing, "application/json")
            if answer is None:
                self.send_error(404)
                return
            if answer.delay:
                time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
