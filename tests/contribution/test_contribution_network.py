"""Hostile and failing servers (issue 15 #4, #5, #7, #11, #14): raw loopback servers that drip, flood,
rate-limit, lie about their content or answer two clients at once. `kb add` and `kb refs` must stay
within their --timeout overall, read at most a capped answer, say what went wrong in one line, and
never let two runs overwrite each other."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.contribution.conftest import DATA
from tests.contribution.test_contribution_refs import _kb_with_chefer

ATOM = (DATA / "2406.16338.atom").read_bytes()
PAPER = "2406.16338"

Handler = Callable[[socket.socket, str], None]


@dataclass
class Wild:
    """A loopback HTTP server whose every connection is answered by `handler(sock, request_line)`."""

    url: str = ""
    handler: Handler | None = None
    requests: list[tuple[float, str]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        return {"KB_ARXIV_API_URL": f"{self.url}/api/query", "KB_CITATIONS_API_URL": f"{self.url}/graph/v1", "KB_ARXIV_DELAY": "0", **extra}


@pytest.fixture
def wild() -> Iterator[Wild]:
    state = Wild()

    class Raw(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                data += chunk
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            state.requests.append((time.monotonic(), line))
            assert state.handler is not None
            try:
                state.handler(sock, line)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Raw)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _head(status: str, headers: dict[str, str]) -> bytes:
    return (f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n").encode()


def answer(body: bytes, status: str = "200 OK", content_type: str = "application/atom+xml", **headers: str) -> Handler:
    def handle(sock: socket.socket, _line: str) -> None:
        sock.sendall(_head(status, {"Content-Type": content_type, "Content-Length": str(len(body)), **headers}) + body)

    return handle


def drip(sock: socket.socket, _line: str) -> None:
    """One byte a second, headers included, for as long as the client listens."""
    for byte in _head("200 OK", {"Content-Type": "application/atom+xml", "Content-Length": str(len(ATOM))}) + ATOM:
        sock.sendall(bytes([byte]))
        time.sleep(1.0)


def flood(sock: socket.socket, _line: str) -> None:
    """A 300 MB answer, announced or not: zeros as fast as the client takes them."""
    sock.sendall(_head("200 OK", {"Content-Type": "application/atom+xml", "Content-Length": str(300 * 1024 * 1024)}))
    block = b"<" + b"a" * (1 << 20)
    for _ in range(300):
        sock.sendall(block)


def _timed(run_kb: Any, *args: str, **kwargs: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = run_kb(*args, **kwargs)
    return result, time.monotonic() - started


# -- #4 one deadline for the whole request --------------------------------------------------------


def test_add_timeout_bounds_a_server_that_drips_one_byte_a_second(toy_root: Path, run_kb: Any, wild: Wild) -> None:
    wild.handler = drip
    result, seconds = _timed(run_kb, "add", PAPER, "--no-suggest", "--timeout", "2", cwd=toy_root, env=wild.env())
    assert result.returncode == 1, result.stderr
    assert f"kb: {PAPER}: arXiv did not answer within 2 s" in result.stderr
    # The command also starts Python and reads the taxonomy; the network part is held to 2 s.
    assert seconds < 6, seconds
    assert not (toy_root / "papers" / f"{PAPER}.yaml").exists()


def test_refs_timeout_bounds_a_server_that_drips_one_byte_a_second(toy_root: Path, run_kb: Any, wild: Wild) -> None:
    path = _kb_with_chefer(toy_root)
    before = path.read_text(encoding="utf-8")
    wild.handler = drip
    result, seconds = _timed(run_kb, "refs", "2012.09838", "--timeout", "2", cwd=toy_root, env=wild.env())
    assert result.returncode == 1 and "Semantic Scholar did not answer within 2 s" in result.stderr, result.stderr
    assert seconds < 6, seconds
    assert path.read_text(encoding="utf-8") == before


def test_retries_and_their_waits_count_against_the_same_deadline(toy_root: Path, run_kb: Any, wild: Wild) -> None:
    wild.handler = answer(b"busy", status="503 Service Unavailable", content_type="text/plain", **{"Retry-After": "1"})
    result, seconds = _timed(run_kb, "add", PAPER, "--no-suggest", "--timeout", "1.5", cwd=toy_root, env=wild.env())
    assert result.returncode == 1
    assert "answered HTTP 503 and asks to wait 1 s, more than is left of the 1.5 s allowed" in result.stderr, result.stderr
    assert len(wild.requests) == 2 and seconds < 5  # the second wait would pass the deadline: no third try


def test_retry_after_is_honoured_on_429(toy_root: Path, run_kb: Any, wild: Wild) -> None:
    served = answer(ATOM)
    limited = answer(b"slow down", status="429 Too Many Requests", content_type="text/plain", **{"Retry-After": "2"})
    wild.handler = lambda sock, line: (limited if len(wild.requests) == 1 else served)(sock, line)
    result = run_kb("add", PAPER, "--no-suggest", "--timeout", "10", cwd=toy_root, env=wild.env())
    assert result.returncode == 0, result.stderr
    (first, _), (second, _) = wild.requests
    assert second - first >= 1.9  # waited as asked, not the default back-off
    assert (toy_root / "papers" / f"{PAPER}.yaml").exists()


def test_a_retry_after_longer_than_the_timeout_gives_up_at_once(toy_root: Path, run_kb: Any, wild: Wild) -> None:
    wild.handler = answer(b"{}", status="429 Too Many Requests", content_type="application/json", **{"Retry-After": "120"})
    result, seconds = _timed(run_kb, "add", PAPER, "--no-suggest", "--timeout", "5", cwd=toy_root, env=wild.env())
    assert result.returncode == 1
    assert "answered HTTP 429 and asks to wait 120 s, more than is left of the 5 s allowed" in result.stderr, result.stderr
    assert len(wild.requests) == 1 and seconds < 5


# -- #5 answers are streamed under a size cap -------------------------------------------------------


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "no-length"])
def test_a_300_mb_answer_is_refused_without_reading_it(toy_root: Path, run_kb: Any, wild: Wild, announced: bool) -> None:
    def unannounced(sock: socket.socket, _line: str) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nConnection: close\r\n\r\n")
        block = b"<" + b"a" * (1 << 20)
        for _ in range(300):
            sock.sendall(block)

    wild.handler = flood if announced else unannounced
    result = run_kb("add", PAPER, "--no-suggest", "--timeout", "60", cwd=toy_root, env=wild.env(),
                    preexec=_limit_memory(1024 * 1024 * 1024))
    assert result.returncode == 1, result.stderr
    assert "arXiv sent an answer larger than 4,194,304 bytes" in result.stderr
    assert not (toy_root / "papers" / f"{PAPER}.yaml").exists()


def _limit_memory(limit: int) -> Callable[[], None]:
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def test_refs_answer_is_capped_too(toy_root: Path, run_kb: Any, wild: Wild) -> None:
    _kb_with_chefer(toy_root)
    wild.handler = flood
    result = run_kb("refs", "2012.09838", "--timeout", "60", cwd=toy_root, env=wild.env())
    assert result.returncode == 1 and "Semantic Scholar sent an answer larger than" in result.stderr, result.stderr


# -- #11 what went wrong is said ---------------------------------------------------------------------


BAD_ANSWERS = [
    ("empty body", answer(b""), "arXiv answered with an empty body"),
    ("html page", answer(b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body><p>Back soon<br></body></html>", content_type="text/html"),
     "arXiv's answer is an HTML page, not an Atom feed"),
    ("malformed xml", answer(ATOM[: len(ATOM) // 2]), "arXiv's answer is not well-formed XML"),
    ("other xml", answer(b"<?xml version='1.0'?><rss><channel/></rss>"), "arXiv's answer is XML but not an Atom feed (root element 'rss')"),
    ("bad date", answer(ATOM.replace(b"<published>2024-06-24T00:00:00Z</published>", b"<published>yesterday-ish</published>")),
     "arXiv's entry could not be read (ValueError"),
    ("entity expansion", answer(b"<?xml version='1.0'?><!DOCTYPE feed [<!ENTITY a 'aaaaaaaaaa'>]><feed xmlns='http://www.w3.org/2005/Atom'>&a;</feed>"),
     "not well-formed XML"),
]


@pytest.mark.parametrize(("case", "handler", "words"), BAD_ANSWERS, ids=[c[0] for c in BAD_ANSWERS])
def test_an_unusable_answer_is_named_not_taken_for_a_missing_paper(toy_root: Path, run_kb: Any, wild: Wild, case: str, handler: Handler, words: str) -> None:
    wild.handler = handler
    result = run_kb("add", PAPER, "--no-suggest", "--timeout", "10", cwd=toy_root, env=wild.env())
    assert result.returncode == 1, result.stderr
    assert words in result.stderr, result.stderr
    assert "no paper with this id" not in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # "fetching ..." and the one message


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e9", "soon"])
def test_unusable_delay_setting_is_refused_at_once(toy_root: Path, run_kb: Any, wild: Wild, value: str) -> None:
    wild.handler = answer(ATOM)
    result, seconds = _timed(run_kb, "add", PAPER, "--no-suggest", cwd=toy_root, env=wild.env(KB_ARXIV_DELAY=value), timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"kb: KB_ARXIV_DELAY='{value}' " in result.stderr and "internal error" not in result.stderr
    assert wild.requests == [] and seconds < 30


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/api/{x}", "http://127.0.0.1:1/api/query?{}", "http://127.0.0.1:1/a b", "http:///query"])
def test_unusable_api_url_setting_is_refused(toy_root: Path, run_kb: Any, url: str) -> None:
    result = run_kb("add", PAPER, "--no-suggest", cwd=toy_root, env={"KB_ARXIV_API_URL": url, "KB_ARXIV_DELAY": "0"}, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "kb: KB_ARXIV_API_URL=" in result.stderr and "internal error" not in result.stderr


# -- #7 a server's error text cannot forge lines -----------------------------------------------------


def test_server_error_text_is_escaped(toy_root: Path, run_kb: Any, wild: Wild) -> None:
    _kb_with_chefer(toy_root)
    forged = b'{"error": "gone\\nok: updated papers/2012.09838.yaml\\n::error ::pwned\\u001b[2J\\u202e"}'
    wild.handler = answer(forged, status="404 Not Found", content_type="application/json")
    result = run_kb("refs", "2012.09838", cwd=toy_root, env=wild.env())
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("kb: 2012.09838: Semantic Scholar does not know this paper (gone\\nok: updated")
    assert "\\x1b[2J\\u202e" in lines[-1]
    assert not any(line.startswith(("ok:", "::")) for line in lines) and "\x1b" not in result.stderr


# -- #14 two `kb add` for one id ----------------------------------------------------------------------


def test_two_adds_of_the_same_id_do_not_overwrite_each_other(toy_root: Path, wild: Wild) -> None:
    import os
    import subprocess

    from tests.conftest import kb_executable

    both = threading.Barrier(2, timeout=30)
    served = answer(ATOM)

    def together(sock: socket.socket, line: str) -> None:
        both.wait()  # both processes have checked that the file does not exist and are fetching
        served(sock, line)

    wild.handler = together
    env = {**os.environ, "NO_COLOR": "1", **wild.env()}
    runs = [subprocess.Popen([*kb_executable(), "add", PAPER, "--no-suggest"], cwd=toy_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outcomes = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, 1], outcomes
    loser = next(err for code, _, err in outcomes if code == 1)
    assert f"kb: papers/{PAPER}.yaml was created by someone else while this command ran; nothing written" in loser
    text = (toy_root / "papers" / f"{PAPER}.yaml").read_text(encoding="utf-8")
    assert text.count("id: '2406.16338'") == 1
    assert not [p for p in (toy_root / "papers").iterdir() if p.name.startswith(".")]  # no temporary file left


# -- #13 a record keeps the permissions a person gave it ----------------------------------------------------


def test_drafts_follow_the_umask_and_updates_keep_the_mode(toy_root: Path, wild: Wild) -> None:
    import os
    import stat
    import subprocess

    from tests.conftest import kb_executable

    wild.handler = answer(ATOM)
    env = {**os.environ, "NO_COLOR": "1", **wild.env()}

    def add(*extra: str) -> None:
        done = subprocess.run([*kb_executable(), "add", PAPER, "--no-suggest", *extra], cwd=toy_root, env=env, capture_output=True, text=True,
                              timeout=120, preexec_fn=lambda: os.umask(0o022))
        assert done.returncode == 0, done.stderr

    path = toy_root / "papers" / f"{PAPER}.yaml"
    add()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "# touched by hand\ntitle:", 1), encoding="utf-8")
    path.chmod(0o664)
    add("--update")
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
