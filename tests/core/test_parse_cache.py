"""The parse cache saves parsing, never validation: what `load` says is what it says without the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kb.loader
import kb.yamlfile
from kb.artefacts import Artefacts
from kb.errors import ValidationFailed
from kb.loader import load
from kb.project import Project

PROBE = "papers/toy-attention-probe.yaml"


def _cache(root: Path) -> Path:
    return Artefacts(Project(root)).parsed_records


def _no_record_parsing(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Fail when a record file is parsed (the taxonomy is parsed as before)."""
    records = {path.read_text(encoding="utf-8") for path in (root / "papers").glob("*.yaml")}
    parse = kb.yamlfile.parse

    def watched(text: str) -> kb.yamlfile.Document:
        assert text not in records, "a record file was parsed although the cache holds its bytes"
        return parse(text)

    monkeypatch.setattr(kb.yamlfile, "parse", watched)


def test_a_second_load_parses_nothing_and_gives_the_same_records(toy_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load(Project(toy_root), parse_cache=_cache(toy_root))
    assert Artefacts(Project(toy_root)).parsed_records.is_file()
    _no_record_parsing(monkeypatch, toy_root)
    again = load(Project(toy_root), parse_cache=_cache(toy_root))
    assert list(again.records) == list(first.records)
    assert again.records == first.records


def test_an_edited_file_is_parsed_again(toy_root: Path) -> None:
    load(Project(toy_root), parse_cache=_cache(toy_root))
    path = toy_root / PROBE
    path.write_text(path.read_text(encoding="utf-8").replace("year: 2024", "year: 2023"), encoding="utf-8")
    assert load(Project(toy_root), parse_cache=_cache(toy_root)).records["toy-attention-probe"].year == 2023


def test_a_cached_record_is_still_validated_and_its_problem_placed(toy_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Valid yesterday, invalid under today's taxonomy: reported at its line although its parse came from the cache."""
    load(Project(toy_root), parse_cache=_cache(toy_root))
    families = toy_root / "taxonomy" / "method-families.yaml"
    families.write_text(families.read_text(encoding="utf-8").replace("- id: probing\n", "- id: linear-probing\n"), encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        load(Project(toy_root), parse_cache=_cache(toy_root))
    assert [(p.path, p.line, p.field) for p in caught.value.problems] == [(PROBE, 13, "method_family[1]")]


def test_a_foreign_or_broken_cache_is_not_trusted(toy_root: Path) -> None:
    project = Project(toy_root)
    load(project, parse_cache=_cache(toy_root))
    cache = Artefacts(project).parsed_records
    data = json.loads(cache.read_text(encoding="utf-8"))
    digest = data["files"][PROBE][0]
    # Another parser's entry for the very same bytes: not used.
    forged = {"parser": "another parser", "files": {PROBE: [digest, {"id": "toy-attention-probe", "year": 1999}]}}
    cache.write_text(json.dumps(forged), encoding="utf-8")
    assert load(project, parse_cache=_cache(toy_root)).records["toy-attention-probe"].year == 2024
    cache.write_text("{not json", encoding="utf-8")
    assert load(project, parse_cache=_cache(toy_root)).records["toy-attention-probe"].year == 2024


def test_a_cache_that_cannot_be_written_does_not_stop_a_load(toy_root: Path) -> None:
    (toy_root / "build").mkdir()
    (toy_root / "build" / "cache").write_text("a file where the cache folder should be", encoding="utf-8")
    assert len(load(Project(toy_root), parse_cache=_cache(toy_root))) == len(list((toy_root / "papers").glob("*.yaml")))


def test_without_the_option_nothing_is_written(toy_root: Path) -> None:
    """`kb validate`, a pre-commit hook and every reading command leave build/ alone."""
    load(Project(toy_root))
    assert not (toy_root / "build").exists()


def test_parallel_parses_fill_the_cache(toy_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kb.loader, "PARALLEL_FROM", 1)
    first = load(Project(toy_root), workers=2, parse_cache=_cache(toy_root))
    _no_record_parsing(monkeypatch, toy_root)
    assert load(Project(toy_root), workers=2, parse_cache=_cache(toy_root)).records == first.records
