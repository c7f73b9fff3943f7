"""Hostile input to `kb validate` and friends (issue 15 #3, #6, #7, #8, #9, #12, #13): special files and
links in papers/, absurd nesting, text that forges output lines or hides itself, undecodable arguments,
a reader that goes away, and the permissions of what kb writes."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from kb import atomic, loader, yamlfile
from kb.errors import ValidationFailed
from kb.loader import load
from kb.project import Project
from kb.records import validate
from kb.taxonomy import load_taxonomy
from tests.conftest import RunKb, kb_executable

# A problem line: path:line: [field: ]message, and nothing else on standard error but the summary.
PROBLEM_LINE = re.compile(r"^(?!ok:|::)\S.*:\d+: .+$")
SUMMARY_LINE = re.compile(r"^\d+ problem\(s\) in \d+ file\(s\)$")


def _memory_limit(limit: int = 1 << 30) -> Any:
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _broken(toy_root: Path) -> None:
    """A second, ordinary problem: every check must still report it."""
    path = toy_root / "papers" / "2311.16922.yaml"
    path.write_text(path.read_text().replace("year: 2023", "year: 1066"))


def _assert_problem_lines(stderr: str) -> list[str]:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert SUMMARY_LINE.match(lines[-1]), stderr
    assert all(PROBLEM_LINE.match(line) for line in lines[:-1]), stderr
    return lines


# -- #3 links and special files in papers/ ---------------------------------------------------------------


SPECIAL = [
    ("link to /dev/zero", lambda p: os.symlink("/dev/zero", p), "is a symbolic link"),
    ("link outside the repository", lambda p: os.symlink("/etc/hostname", p), "is a symbolic link"),
    ("FIFO", lambda p: os.mkfifo(p), "is a FIFO (named pipe), not a regular file"),
    ("directory named x.yaml", lambda p: p.mkdir(), "is a directory, not a regular file"),
    ("dangling link", lambda p: os.symlink("nowhere.yaml", p), "is a symbolic link"),
    ("looping link", lambda p: os.symlink(p.name, p), "is a symbolic link"),
]


@pytest.mark.parametrize(("case", "make", "words"), SPECIAL, ids=[c[0] for c in SPECIAL])
def test_special_entries_in_papers_are_refused_and_the_rest_still_checked(toy_root: Path, run_kb: RunKb, case: str, make: Any, words: str) -> None:
    make(toy_root / "papers" / "2401.00001.yaml")
    _broken(toy_root)
    result = run_kb("validate", cwd=toy_root, timeout=60, preexec=_memory_limit())
    assert result.returncode == 1, result.stderr
    lines = _assert_problem_lines(result.stderr)
    assert f"papers/2401.00001.yaml:1: {words}" in "\n".join(lines), result.stderr
    assert any(line.startswith("papers/2311.16922.yaml:") and "1066" in line for line in lines), result.stderr


def test_a_link_named_on_the_command_line_is_refused_too(toy_root: Path, run_kb: RunKb) -> None:
    os.symlink("/dev/zero", toy_root / "papers" / "2401.00001.yaml")
    result = run_kb("validate", "papers/2401.00001.yaml", cwd=toy_root, timeout=60, preexec=_memory_limit())
    assert result.returncode == 1 and "papers/2401.00001.yaml:1: is a symbolic link" in result.stderr, result.stderr


def test_size_is_checked_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as out:
        out.truncate(8 * 1024**3)  # sparse: 8 GiB that would take seconds and all memory to read
    started = time.perf_counter()
    with pytest.raises(yamlfile.DocumentError, match="8,589,934,592 bytes; at most 262,144"):
        yamlfile.read_bytes(huge)
    assert time.perf_counter() - started < 0.5


# -- #6 crashes become problems -----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [30, 493, 1000, 120_000])
def test_deep_nesting_is_a_problem_not_a_crash(toy_root: Path, run_kb: RunKb, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    (toy_root / "papers" / "2401.00001.yaml").write_text(f"id: '2401.00001'\ntitle: {nested}\n")
    _broken(toy_root)
    result = run_kb("validate", cwd=toy_root, timeout=60)
    assert result.returncode == 1, result.stderr
    lines = _assert_problem_lines(result.stderr)
    assert "papers/2401.00001.yaml:2: nested more than 20 levels deep; records are at most a few levels deep" in lines


def test_the_parallel_loader_reports_special_files_and_checks_the_rest(toy_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "PARALLEL_FROM", 2)
    papers = toy_root / "papers"
    os.symlink("/dev/zero", papers / "2401.00001.yaml")
    (papers / "2401.00002.yaml").mkdir()
    os.symlink("2401.00003.yaml", papers / "2401.00003.yaml")
    (papers / "2401.00004.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    _broken(toy_root)
    with pytest.raises(ValidationFailed) as caught:
        load(Project(toy_root), workers=2)
    found = {(p.path, p.line) for p in caught.value.problems}
    assert {(f"papers/2401.0000{i}.yaml", 1) for i in range(1, 5)} <= found
    assert any(p.path == "papers/2311.16922.yaml" and "1066" in p.message for p in caught.value.problems)


# -- #7 nothing printed can forge a line --------------------------------------------------------------


def test_keys_values_and_file_names_cannot_forge_output_lines(toy_root: Path, run_kb: RunKb) -> None:
    papers = toy_root / "papers"
    (papers / "2401.00001.yaml").write_text(
        '"evil\\nok: 99 records, 3 areas valid\\n::error file=x::pwned": 1\n'
        'id: "2401.00001\\u001b[2J\\u001b]0;title\\u0007"\n'
        'title: "A title\\u2028ok: forged"\n',
        encoding="utf-8",
    )
    (papers / "x\nok: 5 records valid\n::error ::boom.yaml").write_text("id: [\n")
    result = run_kb("validate", cwd=toy_root)
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and "\u2028" not in result.stderr
    lines = _assert_problem_lines(result.stderr)
    assert not any(line.startswith(("ok:", "::")) for line in lines)
    assert "unknown field 'evil\\nok: 99 records, 3 areas valid\\n::error file=x::pwned'" in result.stderr
    assert "papers/x\\nok: 5 records valid\\n::error ::boom.yaml:" in result.stderr


def test_a_record_cannot_print_escape_sequences_through_kb_show(toy_root: Path, run_kb: RunKb) -> None:
    # Record text is validated, so the only way to reach `kb show` is through what validation allows.
    path = toy_root / "papers" / "2311.16922.yaml"
    path.write_text(path.read_text().replace("venue: CVPR 2024", 'venue: "CVPR\\u009b2J 2024"'))
    result = run_kb("validate", cwd=toy_root)
    assert result.returncode == 1 and "venue: contains the control character \\x9b" in result.stderr, result.stderr


# -- #8 a reader that goes away ------------------------------------------------------------------------


def test_a_broken_pipe_is_not_reported_as_success(toy_root: Path) -> None:
    assert subprocess.run([*kb_executable(), "build"], cwd=toy_root, capture_output=True).returncode == 0
    read, write = os.pipe()
    os.close(read)  # the reader (`| head -1`) is already gone
    try:
        done = subprocess.run([*kb_executable(), "list"], cwd=toy_root, stdout=write, stderr=write, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == 141


# -- #9 text that hides itself ---------------------------------------------------------------------------


HIDDEN = [
    ("title", "A title\u2028with a line separator", "must be a single line"),
    ("title", "A title\u2029with a paragraph separator", "must be a single line"),
    ("title", "A title\x85with a next-line", "must be a single line"),
    ("title", "A \u202etitle reversed", "invisible character \\u202e (right-to-left override)"),
    ("title", "A t\u200bitle", "invisible character \\u200b (zero width space)"),
    ("title", "\u2066Isolated\u2069 title", "invisible character \\u2066"),
    ("authors", ["Ann\u200dBee"], "invisible character \\u200d"),
    ("summary", "x" * 90 + "\u202e", "invisible character \\u202e"),
    ("summary", "x" * 90 + "\u2028" + "y", "line separator \\u2028"),
    ("links", {"doi": "10.1000/abc\x00def"}, "control character \\x00"),
    ("links", {"doi": "10.1000/abc\x07"}, "control character \\x07"),
    ("links", {"code": "https://example.org/\x07"}, "control character \\x07"),
    ("venue", "NeurIPS\x9b2024", "control character \\x9b"),
]


@pytest.mark.parametrize(("field", "value", "words"), HIDDEN, ids=[f"{c[0]}-{i}" for i, c in enumerate(HIDDEN)])
def test_invisible_and_separator_characters_are_refused(toy_root: Path, field: str, value: Any, words: str) -> None:
    from pydantic import ValidationError

    taxonomy = load_taxonomy(toy_root / "taxonomy")
    data = yamlfile.load(toy_root / "papers" / "2311.16922.yaml").data
    data[field] = value
    with pytest.raises(ValidationError) as caught:
        validate(data, taxonomy)
    assert any(words in e["msg"] for e in caught.value.errors()), caught.value


def test_a_duplicate_title_cannot_hide_behind_invisible_characters(toy_root: Path) -> None:
    source = toy_root / "papers" / "2311.16922.yaml"
    text = source.read_text()
    title = yamlfile.parse(text).data["title"]
    copy = text.replace("id: '2311.16922'", "id: toy-copy").replace(title, title.replace("Object", "Ob\uff4aect"))  # a fullwidth j
    (toy_root / "papers" / "toy-copy.yaml").write_text(copy)
    with pytest.raises(ValidationFailed) as caught:
        load(Project(toy_root))
    assert any(p.path == "papers/toy-copy.yaml" and p.field == "title" and "same title" in p.message for p in caught.value.problems), caught.value.problems


def test_taxonomy_names_obey_the_title_rules(toy_root: Path) -> None:
    areas = toy_root / "taxonomy" / "areas.yaml"
    areas.write_text(areas.read_text().replace("name: Layer level", 'name: "Layer\\u202e level"').replace("name: Token level", 'name: "Token\\nlevel"'))
    with pytest.raises(ValidationFailed) as caught:
        load_taxonomy(toy_root / "taxonomy")
    messages = [str(p) for p in caught.value.problems]
    assert any("name" in m and "invisible character \\u202e" in m for m in messages), messages
    assert any("name" in m and "must be a single line" in m for m in messages), messages


# -- #12 undecodable arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(b"search", b"caf\xe9 neurons"), (b"suggest", b"--title", b"\xff\xfe title"), (b"list", b"--area", b"mo\xffdel")])
def test_invalid_utf8_arguments_get_a_usage_message(toy_root: Path, run_kb: RunKb, args: tuple[bytes, ...]) -> None:
    result = run_kb(*args, cwd=toy_root, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "is not valid UTF-8" in result.stderr and "\\xe9" in result.stderr or "\\xff" in result.stderr, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_a_non_utf8_path_is_still_a_path(toy_root: Path, run_kb: RunKb) -> None:
    result = run_kb("validate", b"papers/caf\xe9.yaml", cwd=toy_root)
    assert result.returncode == 1 and "papers/caf\\udce9.yaml: no such file" in result.stderr, result.stderr


# -- #13 permissions of written files ------------------------------------------------------------------


def test_atomic_writes_follow_the_umask_and_keep_an_existing_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.txt"
        atomic.write_text(fresh, "x")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        kept = tmp_path / "kept.txt"
        kept.write_text("x")
        kept.chmod(0o640)
        atomic.write_text(kept, "y")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640
        os.umask(0o027)
        strict = tmp_path / "strict.txt"
        atomic.write_bytes(strict, b"z")
        assert stat.S_IMODE(strict.stat().st_mode) == 0o640
        with atomic.replacing(tmp_path / "db.sqlite") as temp:  # writers that need a file name get it too
            assert stat.S_IMODE(temp.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_leftovers_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = _dead_pid()
    stale = tmp_path / f".kb.sqlite.{dead}.0123abcd.tmp"
    journal = tmp_path / f".kb.sqlite.{dead}.0123abcd.tmp-journal"
    live = tmp_path / f".kb.sqlite.{os.getpid()}.0123abcd.tmp"
    for path in (stale, journal, live):
        path.write_bytes(b"x")
    assert sorted(atomic.clean_leftovers(tmp_path)) == sorted([stale, journal])
    assert live.exists()


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_clicks_own_messages_are_escaped_too(toy_root: Path, run_kb: RunKb) -> None:
    result = run_kb("list", "--year", "\x1b[2J\n::error ::x", cwd=toy_root)
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and "'\\x1b[2J\\n::error ::x' is not a year" in result.stderr, result.stderr
    assert not any(line.startswith("::") for line in result.stderr.splitlines())
