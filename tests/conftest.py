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


def copy_search_base(root: Path) -> None:
    """Give a toy knowledge base the distilled token vectors of the static model. A developer's checkout
    (and CI, after `kb site build`) has them in build/; a clean clone distils them once, in the first
    fixture that needs them (~45 s on 2 cores, torch but no network)."""
    cached = REPO / "build" / "search" / "base"
    if (cached / "manifest.json").is_file():
        shutil.copytree(cached, root / "build" / "search" / "base", dirs_exist_ok=True)


@pytest.fixture(scope="session")
def toy_search_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy knowledge base's search artefacts (static model, embeddings cache, faiss index), built once."""
    from kb.artefacts import Inputs
    from kb.project import Project
    from kb.search.store import ensure_index

    root = tmp_path_factory.mktemp("toy-search") / "kb"
    shutil.copytree(TOY, root)
    copy_search_base(root)
    ensure_index(Inputs(Project(root)))
    return root / "build" / "search"


@pytest.fixture
def search_root(toy_root: Path, toy_search_build: Path) -> Path:
    """A writable toy knowledge base whose build folder already holds a current search index."""
    shutil.copytree(toy_search_build, toy_root / "build" / "search")
    return toy_root
