"""Search fixtures: the static model is distilled once per session and copied into each toy copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.project import Project


@pytest.fixture(scope="session")
def static_model_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kb.static_model import static_model_dir

    repo_build = Project(Path(__file__).resolve().parents[2])
    # A developer's checkout usually has it already; a clean clone distils it once (~45 s on 2 cores).
    candidate = repo_build.build_dir / "search" / "static-model"
    from kb.static_model import _is_current

    if _is_current(candidate):
        return candidate
    root = tmp_path_factory.mktemp("static")
    (root / "taxonomy").mkdir()
    return static_model_dir(Project(root))


@pytest.fixture
def search_root(toy_root: Path, static_model_files: Path) -> Path:
    """A writable toy knowledge base whose build folder already holds the static model."""
    target = toy_root / "build" / "search" / "static-model"
    shutil.copytree(static_model_files, target)
    return toy_root
