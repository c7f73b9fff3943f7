"""The database after a build: one row per record, ordered authors, labels, facets, edges; atomic writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kb import db, yamlfile
from kb.errors import ValidationFailed
from kb.loader import load
from kb.project import DATABASE_URL_ENV, Project
from kb.records import validate


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_build_writes_every_table(toy_root: Path) -> None:
    project = Project(toy_root)
    kb = load(project)
    result = db.build(kb, project)
    assert result.changed and result.papers == 5
    sqlite = project.database_path
    assert query(sqlite, "select count(*) from paper") == [(5,)]
    assert query(sqlite, "select name from author where paper_id='2311.16922' order by position")[:2] == [("Sicong Leng",), ("Hang Zhang",)]
    assert query(sqlite, "select count(*) from author where paper_id='2305.10355'") == [(0,)]
    assert query(sqlite, "select area_id from label where paper_id='toy-attention-probe' order by area_id") == [("model.layer",), ("model.token.visual-textual",)]
    assert query(sqlite, "select value from facet where paper_id='toy-attention-probe' and facet='model' order by value") == [("BLIP-2",), ("LLaVA-1.5",)]
    assert set(query(sqlite, "select source, target, kind, relation from edge")) == {
        ("2311.16922", "2305.10355", "builds_on", "evaluates-on"),
        ("toy-attention-probe", "2305.10355", "cites", None),
        ("toy-attention-probe", "2311.16922", "builds_on", "compares-with"),
        ("toy-attention-probe", "2410.04819", "builds_on", "extends"),
    }
    assert query(sqlite, "select count(*) from taxonomynode") == [(len(kb.taxonomy.areas),)]
    assert query(sqlite, "select parent, perspective from taxonomynode where id='model.token.visual'") == [("model.token", "model")]


def test_unchanged_build_does_no_work_and_a_change_rebuilds(toy_root: Path) -> None:
    project = Project(toy_root)
    db.build(load(project), project)
    before = project.database_path.stat().st_mtime_ns
    assert not db.build(load(project), project).changed
    assert project.database_path.stat().st_mtime_ns == before
    path = toy_root / "papers" / "2305.10355.yaml"
    path.write_text(path.read_text().replace("year: 2023", "year: 2024"))
    assert db.build(load(project), project).changed
    assert query(project.database_path, "select year from paper where id='2305.10355'") == [(2024,)]


def test_an_invalid_change_leaves_the_old_database_untouched(toy_root: Path) -> None:
    project = Project(toy_root)
    db.build(load(project), project)
    before = project.database_path.read_bytes()
    (toy_root / "papers" / "2305.10355.yaml").write_text("title: [broken\n")
    with pytest.raises(ValidationFailed):
        db.build(load(project), project)
    assert project.database_path.read_bytes() == before
    assert [p.name for p in project.build_dir.iterdir()] == ["kb.sqlite"], "no temporary file is left behind"


def test_a_failing_write_leaves_no_half_written_database(toy_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = Project(toy_root)
    db.build(load(project), project)
    before = project.database_path.read_bytes()

    def explode(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(db, "_fill", explode)
    with pytest.raises(RuntimeError):
        db.build(load(project), project, force=True)
    assert project.database_path.read_bytes() == before
    assert [p.name for p in project.build_dir.iterdir()] == ["kb.sqlite"]


def test_the_engine_url_is_configurable(toy_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "other.sqlite"
    # A URL that is not plain sqlite:/// takes the in-place, single-transaction path used for PostgreSQL.
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite+pysqlite:///{elsewhere}")
    project = Project(toy_root)
    db.build(load(project), project)
    assert query(elsewhere, "select count(*) from paper") == [(5,)]
    assert not project.database_path.exists()
    assert not db.build(load(project), project).changed


def test_yaml_record_yaml_round_trip(toy_root: Path) -> None:
    kb = load(Project(toy_root))
    for record in kb:
        text = yamlfile.dump(record.to_data())
        again = validate(yamlfile.parse(text).data, kb.taxonomy)
        assert again == record
        assert yamlfile.dump(again.to_data()) == text


def test_atomic_replacement_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    from kb import atomic

    target = tmp_path / "out" / "file.json"
    atomic.write_text(target, "old\n")
    with pytest.raises(RuntimeError), atomic.replacing(target) as temp:
        temp.write_text("half")
        raise RuntimeError("writer died")
    assert target.read_text() == "old\n"
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]
