"""`kb site serve` through the real console script: it answers over HTTP and regenerates when a record changes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

PAPER = "2305.10355"
OLD_TITLE = "Evaluating Object Hallucination in Large Vision-Language Models"
NEW_TITLE = "Evaluating Object Hallucination Again, Now With a Fresh Title"
WAIT = 90.0  # seconds; the first page needs the database, search assets and a full mkdocs build


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def _wait_until(check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"kb site serve exited with {process.returncode} while waiting for {what}:\n{log.read_text(errors='replace')[-3000:]}")
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"no {what} within {WAIT:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def test_site_serve_answers_and_regenerates_an_edited_record(site_root: Path, tmp_path: Path) -> None:
    # A copy of the session's prepared knowledge base (database, search index, static model) minus its
    # built site, so serve starts from warm caches and the edit cannot disturb the other site tests.
    root = tmp_path / "kb"
    shutil.copytree(site_root, root, ignore=lambda folder, names: ["site"] if Path(folder) == site_root / "build" else [])
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    script = Path(sys.executable).parent / "kb"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kb"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        # Its own session (process group): mkdocs' server threads and anything they start die with it.
        process = subprocess.Popen([*command, "site", "serve", "--no-xai", "--address", f"127.0.0.1:{port}"], cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, "NO_COLOR": "1"})
    try:
        _wait_until(lambda: _get(base)[0] == 200, process, log, "home page")
        status, html = _get(base + f"papers/{PAPER}/")
        assert status == 200 and OLD_TITLE in html and NEW_TITLE not in html

        record = root / "papers" / f"{PAPER}.yaml"
        text = record.read_text(encoding="utf-8")
        assert f"title: {OLD_TITLE}\n" in text
        record.write_text(text.replace(f"title: {OLD_TITLE}\n", f"title: {NEW_TITLE}\n"), encoding="utf-8")

        _wait_until(lambda: NEW_TITLE in _get(base + f"papers/{PAPER}/")[1], process, log, "regenerated paper page")
        assert OLD_TITLE not in _get(base + f"papers/{PAPER}/")[1]
        assert process.poll() is None
    finally:
        _end_group(process)


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """Terminate the whole process group, even when its leader has already exited."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(0.2)  # let stragglers in the group act on the signal before the next probe
