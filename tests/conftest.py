"""Fixtures shared by every test package: a private copy of the toy knowledge base and the real `kb` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
REPO = TESTS.parent
TOY = TESTS / "data" / "toykb"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"

RunKb = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def toy_root(tmp_path: Path) -> Path:
    """A writable copy of tests/data/toykb: a taxonomy and a handful of records."""
    root = tmp_path / "kb"
    shutil.copytree(TOY, root)
    return root


def kb_executable() -> list[str]:
    """The installed console script, the entry point users run; `python -m kb` where it is not on disk."""
    script = Path(sys.executable).parent / "kb"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kb"]


@pytest.fixture
def run_kb() -> RunKb:
    """Run `kb ARGS...` in a subprocess; returns the CompletedProcess (text mode, never raises)."""

    def run(*args: str | bytes, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 300,
            preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
        return subprocess.run([*kb_executable(), *args], cwd=cwd, env=full_env, input=input, capture_output=True, text=True, timeout=timeout,
                              preexec_fn=preexec)

    return run
