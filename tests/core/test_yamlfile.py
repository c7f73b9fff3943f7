"""Malformed files: each gets one clear line with the file and line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import yamlfile
from kb.errors import ValidationFailed
from kb.loader import load
from kb.project import Project

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"

MALFORMED = [
    ("syntax error", b"id: '2401.00001'\ntitle: [unclosed\nyear: 2024\n", 3, "YAML syntax error"),
    ("tab indentation", b"id: '2401.00001'\nlinks:\n\tarxiv: '2401.00001'\n", 3, "tab character in indentation"),
    ("duplicate key", b"id: '2401.00001'\ntitle: One\ntitle: Two\n", 3, "duplicate key 'title'"),
    ("alias bomb", BOMB.encode(), 1, "anchors and aliases"),
    ("merge key", b"base: &b {x: 1}\nother:\n  <<: *b\n", 3, "anchors and aliases"),
    ("non-UTF-8", b"id: '2401.00001'\ntitle: caf\xe9\n", 2, "not valid UTF-8"),
    ("empty file", b"", 1, "file is empty"),
    ("only whitespace", b"  \n\n", 1, "file is empty"),
    ("only a comment", b"# nothing here\n", 1, "no YAML value"),
    ("list at the top level", b"- id: '2401.00001'\n", 1, "top level must be a mapping of fields, found a list"),
    ("scalar at the top level", b"just text\n", 1, "found a single str value"),
    ("two documents", b"id: a\n---\nid: b\n", 2, "YAML syntax error"),
    ("huge file", b"title: " + b"x" * (yamlfile.MAX_BYTES + 10) + b"\n", 1, "at most 262,144 are allowed"),
]


@pytest.mark.parametrize(("case", "content", "line", "words"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_file(toy_root: Path, case: str, content: bytes, line: int, words: str) -> None:
    (toy_root / "papers" / "2401.00001.yaml").write_bytes(content)
    with pytest.raises(ValidationFailed) as caught:
        load(Project(toy_root))
    [problem] = caught.value.problems
    assert problem.path == "papers/2401.00001.yaml"
    assert problem.line == line, str(problem)
    assert words in problem.message, str(problem)


def test_float_looking_ids_stay_text() -> None:
    doc = yamlfile.parse("id: 2410.04810\nyear: 2024\npublished: 2024-10-07\nflag: yes\n")
    assert doc.data == {"id": "2410.04810", "year": 2024, "published": "2024-10-07", "flag": True}


def test_lines_are_remembered_for_nested_values() -> None:
    doc = yamlfile.parse("a: 1\nlist:\n  - x\n  - y\nmap:\n  inner: 2\n")
    assert doc.line_of(("list", 1)) == 4
    assert doc.line_of(("map", "inner")) == 6
    assert doc.line_of(("map", "missing")) == 5


def test_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert yamlfile.load(path).data == {"a": 1}


def test_dump_round_trips_long_text() -> None:
    data = {"id": "2311.16922", "summary": "word " * 60 + "end: with a colon and 'quotes'", "list": ["a", "b"]}
    assert yamlfile.parse(yamlfile.dump(data)).data == data
