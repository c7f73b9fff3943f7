"""Search fixtures: the toy index (static model, embeddings cache, faiss files) is built once per session
and copied into each writable toy copy, so a test pays only for what it changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.project import Project

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "tests" / "data" / "toykb"


@pytest.fixture(scope="session")
def toy_search_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kb.index import ensure_index

    root = tmp_path_factory.mktemp("toy-search") / "kb"
    shutil.copytree(TOY, root)
    # A developer's checkout has the distilled token vectors already; a clean clone distils them here
    # once (~45 s on 2 cores, needs torch but no network).
    cached = REPO / "build" / "search"
    for name in ("static-base.npy", "static-base.json"):
        if (cached / name).is_file():
            (root / "build" / "search").mkdir(parents=True, exist_ok=True)
            shutil.copy2(cached / name, root / "build" / "search" / name)
    ensure_index(Project(root))
    return root / "build" / "search"


@pytest.fixture
def search_root(toy_root: Path, toy_search_build: Path) -> Path:
    """A writable toy knowledge base whose build folder already holds a current search index."""
    shutil.copytree(toy_search_build, toy_root / "build" / "search")
    return toy_root
