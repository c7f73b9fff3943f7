"""The taxonomy is validated as a whole: unique ids, parents that exist, no cycles, no clashing aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.errors import ValidationFailed
from kb.taxonomy import load_taxonomy

REPO_TAXONOMY = Path(__file__).resolve().parents[2] / "taxonomy"


def test_the_repository_taxonomy_is_valid() -> None:
    taxonomy = load_taxonomy(REPO_TAXONOMY)
    assert taxonomy.roots() == ["data", "model", "training-inference", "foundations"]
    assert "model.neuron" in taxonomy.leaves() and "model.token" not in taxonomy.leaves()
    assert taxonomy.descendants("model.token") == ["model.token", "model.token.visual", "model.token.visual-textual"]
    assert taxonomy.perspective("model.architecture.design") == "model"
    assert taxonomy.facet("model").check("llava v1.5") == "LLaVA-1.5"
    assert taxonomy.registry.keys() == ["granularity", "modality", "contribution", "method_family", "model"]


def broken(toy_root: Path, name: str, old: str, new: str) -> list[str]:
    path = toy_root / "taxonomy" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ValidationFailed) as caught:
        load_taxonomy(toy_root / "taxonomy")
    return [str(p) for p in caught.value.problems]


def test_duplicate_area_id(toy_root: Path) -> None:
    [line] = broken(toy_root, "areas.yaml", "- id: model.layer\n", "- id: model.neuron\n")
    assert line.startswith("taxonomy/areas.yaml:") and "duplicate area id 'model.neuron'" in line


def test_missing_parent(toy_root: Path) -> None:
    [line] = broken(toy_root, "areas.yaml", "  parent: model.token\n", "  parent: model.tokens\n")
    assert "parent 'model.tokens' of 'model.token.visual' is not an area (did you mean 'model.token'?)" in line


def test_cycle(toy_root: Path) -> None:
    lines = broken(toy_root, "areas.yaml", "- id: model\n  name: Model\n  parent: null", "- id: model\n  name: Model\n  parent: model.token")
    assert any("cycle" in line for line in lines)


def test_alias_that_names_two_models(toy_root: Path) -> None:
    [line] = broken(toy_root, "models.yaml", "aliases: [Vision Transformer]", "aliases: [Vision Transformer, openai-clip]")
    assert "'openai-clip' already names 'CLIP'" in line


def test_duplicate_facet_term(toy_root: Path) -> None:
    [line] = broken(toy_root, "facets.yaml", "  - id: video\n", "  - id: image\n")
    assert "duplicate term 'image'" in line and line.startswith("taxonomy/facets.yaml:")


def test_unknown_key_in_an_area(toy_root: Path) -> None:
    [line] = broken(toy_root, "areas.yaml", "- id: model.layer\n", "- id: model.layer\n  colour: red\n")
    assert "colour" in line and "Extra inputs are not permitted" in line
