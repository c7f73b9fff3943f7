"""Shared, expensive xai fixtures: built once per session (the trained toy model comes from build/xai/)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TOY_KB = REPO / "tests" / "data" / "toykb"


@pytest.fixture(scope="session")
def torch_threads() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def toy(torch_threads: None) -> Any:
    """The trained toy model and its adapter, trained once and cached in the repository's build/xai/."""
    from kb.xai import toy_model, toy_task
    from kb.xai.adapters import LlavaAdapter

    model = toy_model.load_or_train(REPO / "build" / "xai").model
    return model, LlavaAdapter(model, text_mask_token=toy_task.MASK, image_fill=toy_task.OCCLUSION_FILL)


@pytest.fixture(scope="session")
def bench_project(tmp_path_factory: pytest.TempPathFactory, toy: Any) -> Path:
    """A knowledge base whose build/xai/ holds the trained model and a corrupt results file to recover from."""
    root = tmp_path_factory.mktemp("xai") / "kb"
    shutil.copytree(TOY_KB, root)
    cache = root / "build" / "xai"
    cache.mkdir(parents=True)
    shutil.copy(REPO / "build" / "xai" / "toy_model.pt", cache / "toy_model.pt")
    (cache / "results.json").write_text('{"model": {"accuracy": 1.0}, "methods": {', encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def bench(bench_project: Path) -> dict[str, Any]:
    from kb.project import Project
    from kb.xai.benchmark import ensure_results

    return ensure_results(Project(bench_project))
