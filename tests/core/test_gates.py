"""The lint and type gates CI holds kb/ to: ruff (rules and line length in pyproject.toml), ruff's format, mypy.
They run here, through pytest, so the README's test command is the whole of CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is in the test extra")
def test_ruff_finds_nothing_in_kb() -> None:
    lint = run("ruff", "check", "kb")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    layout = run("ruff", "format", "--check", "kb")
    assert layout.returncode == 0, layout.stdout + layout.stderr


def test_mypy_finds_nothing_in_kb() -> None:
    pytest.importorskip("mypy")
    checked = run(sys.executable, "-m", "mypy")
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout")
def test_nothing_derived_is_committed() -> None:
    """Caches under build/ and .site-src/ (parsed records, vectors, token ids, rows, page keys) are trusted as
    this machine's own work: one committed by a pull request (a forced `git add`) would be read instead of the
    records it claims to stand for."""
    tracked = run("git", "ls-files", "--", "build", ".site-src", "tests/data/toykb/build")
    assert tracked.returncode == 0, tracked.stderr
    assert tracked.stdout == ""
