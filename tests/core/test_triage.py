"""The triage file (curation/excluded.yaml): checked by `kb validate`, skipped by `kb discover`."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.errors import ValidationFailed
from kb.loader import load
from kb.project import Project

GOOD = """\
# papers read and judged out of scope
- id: '2501.00001'
  title: A Text-Only Study of Something Else
  reason: text-only LLM study
- id: '2501.00002'
  title: A Faster Image Captioner
  reason: multimodal efficiency work without analysis
"""


def write(root: Path, text: str) -> Path:
    path = root / "curation" / "excluded.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(root: Path) -> list[str]:
    try:
        load(Project(root), with_triage=True)
    except ValidationFailed as exc:
        return [str(p) for p in exc.problems]
    return []


def test_a_good_triage_file_is_loaded(toy_root: Path) -> None:
    write(toy_root, GOOD)
    kb = load(Project(toy_root), with_triage=True)
    assert list(kb.triage.excluded) == ["2501.00001", "2501.00002"]
    assert "2501.00002" in kb.triage and "2305.10355" not in kb.triage


def test_no_triage_file_is_an_empty_triage(toy_root: Path) -> None:
    assert len(load(Project(toy_root), with_triage=True).triage) == 0


@pytest.mark.parametrize(("edit", "expected"), [
    (("'2501.00002'", "'2501.00001'"), "curation/excluded.yaml:5: [1].id: '2501.00001' is listed twice"),
    (("'2501.00002'", "'2305.10355'"), "curation/excluded.yaml:5: [1].id: '2305.10355' is a record in papers/"),
    (("A Faster Image Captioner", "Evaluating Object Hallucination in Large Vision-Language Models"),
     "curation/excluded.yaml:6: [1].title: same title as record '2305.10355'"),
    (("  reason: text-only LLM study\n", ""), "curation/excluded.yaml:2: [0].reason: required field is missing"),
    (("'2501.00002'", "'not-an-id'"), "curation/excluded.yaml:5: [1].id: 'not-an-id' is not an arXiv id"),
    (("reason: text-only LLM study", "reason: \"two\\nlines\""), "curation/excluded.yaml:4: [0].reason: must be a single line"),
    (("  title: A Faster Image Captioner\n", "  title: A Faster Image Captioner\n  extra: 1\n"), "curation/excluded.yaml:7: [1].extra: unknown field 'extra'"),
])
def test_triage_problems_name_file_line_and_field(toy_root: Path, edit: tuple[str, str], expected: str) -> None:
    assert edit[0] in GOOD
    write(toy_root, GOOD.replace(edit[0], edit[1], 1))
    found = problems(toy_root)
    assert any(p.startswith(expected) for p in found), found


def test_a_triage_file_that_is_not_a_list_is_refused(toy_root: Path) -> None:
    write(toy_root, "id: '2501.00001'\n")
    assert problems(toy_root) == ["curation/excluded.yaml:1: the triage file must be a list of {id, title, reason} entries"]


def test_validating_one_record_still_reports_the_triage_file(toy_root: Path) -> None:
    write(toy_root, GOOD.replace("'2501.00002'", "'2501.00001'"))
    with pytest.raises(ValidationFailed) as caught:
        load(Project(toy_root), only=[toy_root / "curation" / "excluded.yaml"], with_triage=True)
    assert [p.path for p in caught.value.problems] == ["curation/excluded.yaml"]
