"""Wall-clock time of the bounded network calls against hostile loopback servers.

    python benchmarks/network_bounds.py [--runs 3]

Each case runs the real `kb` command in a copy of the toy knowledge base against a server on 127.0.0.1:
one that sends its answer one byte a second (headers included), one that answers 503 with Retry-After,
one that rate-limits with a Retry-After longer than the timeout, one that sends 300 MB. Prints the median
seconds per case; `--timeout` is the whole budget of a fetch, retries and waits included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOY = REPO / "tests" / "data" / "toykb"
ATOM = (REPO / "tests" / "contribution" / "data" / "2406.16338.atom").read_bytes()
CHEFER = """\
id: '2012.09838'
title: Transformer Interpretability Beyond Attention Visualization
authors: [Hila Chefer, Shir Gur, Lior Wolf]
year: 2020
taxonomy: [foundations.methods]
modalities: [image, text]
contribution: method
summary: >-
  Propagates relevance through every layer of a transformer, including attention and skip connections,
  and weights it by attention gradients, to produce class-specific maps for vision and text transformers.
findings:
  - Class-specific relevance maps beat attention rollout and gradient maps on perturbation tests.
"""


def _head(status: str, length: int | None, extra: str = "") -> bytes:
    size = f"Content-Length: {length}\r\n" if length is not None else ""
    return f"HTTP/1.1 {status}\r\nContent-Type: application/atom+xml\r\n{size}{extra}Connection: close\r\n\r\n".encode()


def drip(sock: socket.socket) -> None:
    for byte in _head("200 OK", len(ATOM)) + ATOM:
        sock.sendall(bytes([byte]))
        time.sleep(1.0)


def busy(sock: socket.socket) -> None:
    sock.sendall(_head("503 Service Unavailable", 4, "Retry-After: 1\r\n") + b"busy")


def limited(sock: socket.socket) -> None:
    sock.sendall(_head("429 Too Many Requests", 2, "Retry-After: 120\r\n") + b"{}")


def flood(sock: socket.socket) -> None:
    sock.sendall(_head("200 OK", None))
    block = b"<" + b"a" * (1 << 20)
    for _ in range(300):
        sock.sendall(block)


def serve(handler: Callable[[socket.socket], None]) -> tuple[socketserver.ThreadingTCPServer, str]:
    class Raw(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                data += chunk
            try:
                handler(self.request)
            except OSError:
                pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Raw)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def run(args: list[str], url: str) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        shutil.copytree(TOY, root)
        (root / "papers" / "2012.09838.yaml").write_text(CHEFER, encoding="utf-8")
        env = {**os.environ, "NO_COLOR": "1", "KB_ARXIV_API_URL": f"{url}/api/query", "KB_CITATIONS_API_URL": f"{url}/graph/v1",
               "KB_ARXIV_DELAY": "0"}
        kb = Path(sys.executable).parent / "kb"
        started = time.perf_counter()
        done = subprocess.run([str(kb), *args], cwd=root, env=env, capture_output=True, text=True, timeout=600)
        seconds = time.perf_counter() - started
        return seconds, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"


CASES = [
    ("kb add --timeout 2, one byte a second", drip, ["add", "2406.16338", "--no-suggest", "--timeout", "2"]),
    ("kb refs --timeout 2, one byte a second", drip, ["refs", "2012.09838", "--timeout", "2"]),
    ("kb add --timeout 2, 503 + Retry-After: 1", busy, ["add", "2406.16338", "--no-suggest", "--timeout", "2"]),
    ("kb add --timeout 30, 429 + Retry-After: 120", limited, ["add", "2406.16338", "--no-suggest", "--timeout", "30"]),
    ("kb add --timeout 60, 300 MB answer", flood, ["add", "2406.16338", "--no-suggest", "--timeout", "60"]),
    ("kb validate (Python start-up and taxonomy, for reference)", busy, ["validate"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    print(f"{'case':<58} {'median s':>9}  last message")
    for name, handler, args in CASES:
        server, url = serve(handler)
        try:
            timings = []
            message = ""
            for _ in range(options.runs):
                seconds, message = run(args, url)
                timings.append(seconds)
        finally:
            server.shutdown()
            server.server_close()
        print(f"{name:<58} {statistics.median(timings):>9.2f}  {message[:110]}")


if __name__ == "__main__":
    main()
