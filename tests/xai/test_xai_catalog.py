"""The catalog is light, its implementations import, and paper records point back to them."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kb.xai.catalog import METHODS, primary_implementation

REPO = Path(__file__).resolve().parents[2]


def resolve(implementation: str) -> object:
    module, attribute = implementation.split(":")
    return getattr(importlib.import_module(module), attribute)


def test_catalog_imports_without_torch() -> None:
    code = "import sys, kb.xai.catalog, kb.cli.xai; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_every_implementation_imports_and_names_its_paper(method) -> None:  # type: ignore[no-untyped-def]
    implementation = resolve(method.implementation)()  # type: ignore[operator]
    assert implementation.name == method.name
    assert implementation.paper_id == method.paper_id
    assert len(method.summary) > 40


def test_records_point_to_importable_implementations() -> None:
    for path in sorted((REPO / "papers").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("implementation"):
            assert resolve(data["implementation"]), path.name


def test_every_method_record_points_back() -> None:
    ids = {m.paper_id for m in METHODS} | {r for m in METHODS for r in m.related}
    for paper_id in ids:
        path = REPO / "papers" / f"{paper_id}.yaml"
        if path.exists():
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            assert data.get("implementation") == primary_implementation(paper_id), paper_id
