"""Every validation rule, each with an input that breaks it: the problem names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.errors import ValidationFailed
from kb.loader import load
from kb.problem import Problem
from kb.project import Project

GOOD = """\
id: '2401.00001'
title: A Perfectly Ordinary Test Record
authors: [Ada Example]
year: 2024
links:
  arxiv: '2401.00001'
taxonomy: [model.neuron]
granularity: [neuron]
modalities: [image, text]
contribution: analysis
method_family: [neuron-analysis]
models_studied: [LLaVA-1.5]
summary: >-
  A record made for the tests. It is long enough to pass the length check on summaries and says nothing
  about any real paper at all.
findings:
  - A finding that is long enough to be accepted.
cites: ['2305.10355']
builds_on:
  - {id: '2311.16922', relation: compares-with}
"""


def problems_for(root: Path, text: str | bytes, name: str = "2401.00001.yaml") -> list[Problem]:
    path = root / "papers" / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    try:
        load(Project(root))
    except ValidationFailed as exc:
        return exc.problems
    return []


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_the_good_record_is_valid(toy_root: Path) -> None:
    assert problems_for(toy_root, GOOD) == []


def test_model_aliases_are_normalised(toy_root: Path) -> None:
    problems_for(toy_root, GOOD.replace("[LLaVA-1.5]", "[llava v1.5, BLIP2]"))
    record = load(Project(toy_root)).records["2401.00001"]
    assert record.models_studied == ["LLaVA-1.5", "BLIP-2"]


# (what is broken, the replacement applied to GOOD, expected line, expected field, words in the message)
RECORD_CASES = [
    ("unknown key", ("contribution: analysis", "contribution: analysis\nsumary: x"), 11, "sumary", "unknown field 'sumary' (did you mean 'summary'?)"),
    ("missing field", ("contribution: analysis\n", ""), 1, "contribution", "required field is missing"),
    ("malformed id", ("id: '2401.00001'", "id: 'Paper 1'"), 1, "id", "neither an arXiv id"),
    ("versioned id", ("id: '2401.00001'", "id: '2401.00001v2'"), 1, "id", "use '2401.00001'"),
    ("bad month in id", ("id: '2401.00001'", "id: '2413.00001'"), 1, "id", "has month 13"),
    ("implausible year", ("year: 2024", "year: 1066"), 4, "year", "not a plausible year"),
    ("year before the id's month", ("year: 2024", "year: 2023"), 4, "year", "before the arXiv id's month"),
    ("year as text", ("year: 2024", "year: twenty"), 4, "year", "valid integer"),
    ("published before the id", ("year: 2024", "year: 2024\npublished: 2023-05-01"), 5, "published", "before the arXiv id's month"),
    ("javascript link", ("  arxiv: '2401.00001'", "  arxiv: '2401.00001'\n  code: javascript:alert(1)"), 7, "links.code", "not an http(s) link"),
    ("arxiv link mismatch", ("  arxiv: '2401.00001'", "  arxiv: '2401.00002'"), 6, "links.arxiv", "differs from the record id"),
    ("title too long", ("title: A Perfectly Ordinary Test Record", "title: " + "x" * 401), 2, "title", "at most 400"),
    ("multi-line title", ("title: A Perfectly Ordinary Test Record", "title: \"Two\\nlines\""), 2, "title", "single line"),
    ("summary too short", ("  A record made for the tests. It is long enough to pass the length check on summaries and says nothing\n  about any real paper at all.", "  Too short."), 13, "summary", "at least 80"),
    ("draft placeholder", ("  A record made for the tests.", "  TODO: write a summary. A record made for the tests."), 13, "summary", "placeholder"),
    ("unknown area", ("taxonomy: [model.neuron]", "taxonomy: [model.nueron]"), 7, "taxonomy[0]", "unknown area 'model.nueron' (did you mean 'model.neuron'?)"),
    ("non-leaf area", ("taxonomy: [model.neuron]", "taxonomy: [model.token]"), 7, "taxonomy[0]", "not a leaf area"),
    ("no area", ("taxonomy: [model.neuron]", "taxonomy: []"), 7, "taxonomy", "at least 1"),
    ("repeated area", ("taxonomy: [model.neuron]", "taxonomy: [model.neuron, model.neuron]"), 7, "taxonomy", "listed twice"),
    ("unknown granularity", ("granularity: [neuron]", "granularity: [nueron]"), 8, "granularity[0]", "did you mean 'neuron'"),
    ("unknown modality", ("modalities: [image, text]", "modalities: [image, smell]"), 9, "modalities[1]", "unknown modality 'smell'"),
    ("unknown contribution", ("contribution: analysis", "contribution: essay"), 10, "contribution", "unknown contribution 'essay'"),
    ("unknown method family", ("method_family: [neuron-analysis]", "method_family: [neuron-analyses]"), 11, "method_family[0]", "did you mean 'neuron-analysis'"),
    ("unknown model", ("models_studied: [LLaVA-1.5]", "models_studied: [LLaVA-1.5, Llava-9000]"), 12, "models_studied[1]", "unknown model studied 'Llava-9000'"),
    ("short finding", ("  - A finding that is long enough to be accepted.", "  - Tiny."), 17, "findings[0]", "at least 15"),
    ("no findings", ("findings:\n  - A finding that is long enough to be accepted.", "findings: []"), 16, "findings", "at least 1"),
    ("unresolved citation", ("cites: ['2305.10355']", "cites: ['2305.10356']"), 18, "cites[0]", "'2305.10356' is not a record in papers/ (did you mean '2305.10355'?)"),
    ("unresolved lineage", ("{id: '2311.16922'", "{id: '2311.16923'"), 20, "builds_on[0].id", "'2311.16923' is not a record"),
    ("unknown relation", ("relation: compares-with", "relation: likes"), 20, "builds_on[0].relation", "unknown relation 'likes'"),
    ("self citation", ("cites: ['2305.10355']", "cites: ['2401.00001']"), 18, "cites", "cannot cite or build on itself"),
    ("control character", ("title: A Perfectly Ordinary Test Record", "title: \"A bell \\a here\""), 2, "title", "control character"),
    ("bad implementation path", ("contribution: analysis", "contribution: analysis\nimplementation: os:system"), 11, "implementation", "should match pattern"),
    ("added before posting", ("year: 2024", "year: 2024\npublished: 2024-01-10\nadded: 2024-01-02"), 6, "added", "before the paper was first posted"),
    ("added in the future", ("contribution: analysis", "contribution: analysis\nadded: 2999-01-01"), 11, "added", "in the future"),
    ("added not a date", ("contribution: analysis", "contribution: analysis\nadded: last week"), 11, "added", "valid date"),
    ("list instead of text", ("title: A Perfectly Ordinary Test Record", "title: [a, b]"), 2, "title", "valid string"),
]


@pytest.mark.parametrize(("case", "edit", "line", "field", "words"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_record_rule(toy_root: Path, case: str, edit: tuple[str, str], line: int, field: str, words: str) -> None:
    assert edit[0] in GOOD, case
    problem = only(problems_for(toy_root, GOOD.replace(edit[0], edit[1], 1)))
    assert (problem.path, problem.line, problem.field) == ("papers/2401.00001.yaml", line, field), str(problem)
    assert words in problem.message


def test_file_name_must_match_the_id(toy_root: Path) -> None:
    problem = only(problems_for(toy_root, GOOD, name="2401.00009.yaml"))
    assert problem.field == "id" and "file name must be '2401.00001.yaml'" in problem.message


def test_old_style_ids_live_in_files_with_an_underscore(toy_root: Path) -> None:
    text = GOOD.replace("'2401.00001'", "'hep-th/9901001'").replace("year: 2024", "year: 1999")
    assert problems_for(toy_root, text, name="hep-th_9901001.yaml") == []


def test_slugs_are_accepted_for_works_without_arxiv_ids(toy_root: Path) -> None:
    text = GOOD.replace("id: '2401.00001'", "id: clever-hans-2019").replace("  arxiv: '2401.00001'\n", "  code: https://example.org/x\n")
    assert problems_for(toy_root, text, name="clever-hans-2019.yaml") == []


def test_duplicate_normalised_titles(toy_root: Path) -> None:
    text = GOOD.replace("A Perfectly Ordinary Test Record", "Evaluating object hallucination in large vision-language models!")
    problem = only(problems_for(toy_root, text))
    assert problem.field == "title" and "same title as record '2305.10355'" in problem.message


def test_duplicate_ids_across_paths(toy_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "2305.10355.yaml"
    outside.parent.mkdir()
    outside.write_text((toy_root / "papers" / "2305.10355.yaml").read_text())
    with pytest.raises(ValidationFailed) as caught:
        load(Project(toy_root), only=[outside])
    assert any("duplicate id '2305.10355'" in p.message for p in caught.value.problems)


def test_every_problem_is_reported_at_once(toy_root: Path) -> None:
    broken = GOOD.replace("model.neuron]", "model.nueron]").replace("year: 2024", "year: 1066")
    problems = problems_for(toy_root, broken)
    problems += problems_for(toy_root, "- a list\n", name="2401.00002.yaml")
    fields = {(p.path, p.field) for p in problems}
    assert ("papers/2401.00001.yaml", "taxonomy[0]") in fields
    assert ("papers/2401.00001.yaml", "year") in fields
    assert any(p.path == "papers/2401.00002.yaml" for p in problems)


def test_yml_extension_is_named(toy_root: Path) -> None:
    problem = only(problems_for(toy_root, GOOD, name="2401.00001.yml"))
    assert "end in .yaml" in problem.message


def test_only_reports_the_given_files_but_resolves_against_all(toy_root: Path) -> None:
    problems_for(toy_root, GOOD.replace("year: 2024", "year: 1066"))
    other = toy_root / "papers" / "2311.16922.yaml"
    # Asking about another file succeeds although a file not asked about is broken...
    assert "2311.16922" in load(Project(toy_root), only=[other]).records
    # ...and asking about the broken file reports it, with its citation resolved against the rest.
    with pytest.raises(ValidationFailed) as caught:
        load(Project(toy_root), only=[toy_root / "papers" / "2401.00001.yaml"])
    assert [p.field for p in caught.value.problems] == ["year"]


def test_parallel_loading_gives_the_same_knowledge_base_and_problems(toy_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kb.loader

    serial = load(Project(toy_root), workers=1)
    monkeypatch.setattr(kb.loader, "PARALLEL_FROM", 1)
    parallel = load(Project(toy_root), workers=2)
    assert list(parallel.records) == list(serial.records)
    assert parallel.records == serial.records
    problems_for(toy_root, GOOD.replace("year: 2024", "year: 1066"))
    with pytest.raises(ValidationFailed) as caught:
        load(Project(toy_root), workers=2)
    assert [(p.line, p.field) for p in caught.value.problems] == [(4, "year")]


def test_parallel_loading_in_a_fresh_process(toy_root: Path) -> None:
    """Workers send back records of a generated class: the parent must have made that class before it unpickles
    them (a new process that loads in parallel first failed with 'Can't get attribute Record_...')."""
    import subprocess
    import sys

    code = ("import kb.loader as l; from pathlib import Path; from kb.project import Project; l.PARALLEL_FROM = 1; "
            f"print(len(l.load(Project(Path({str(toy_root)!r})), workers=2)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == str(len(list((toy_root / "papers").glob("*.yaml"))))
