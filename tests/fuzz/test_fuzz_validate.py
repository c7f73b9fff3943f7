"""Property: whatever a record file holds, `kb validate` answers exit 0 with `ok:` or exit 1 with one
`path:line: [field: ]message` line per problem and a summary; never a traceback, never an internal
error, never a raw control character, never a hang.

In-process through the real CLI (click's runner, same error rendering) for speed, a handful through
the installed `kb` command. The number of examples per run is printed (pytest -s) and documented in
site/architecture.md; KB_FUZZ_EXAMPLES scales it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.cli import app
from tests.conftest import TOY, kb_executable
from tests.fuzz.strategies import dump, mutated_bytes, mutated_data

SCALE = float(os.environ.get("KB_FUZZ_EXAMPLES", "1"))
DATA_EXAMPLES = int(850 * SCALE)
BYTES_EXAMPLES = int(1050 * SCALE)
PROBLEM = re.compile(r"^(?!ok:|::)\S.*?:\d+: .+$")
SUMMARY = re.compile(r"^\d+ problem\(s\) in \d+ file\(s\)$")
# Anything a terminal or a CI log would act on; every such character must arrive escaped.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, print_blob=True, suppress_health_check=_HEALTH)
TRIED: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "kb"
    shutil.copytree(TOY, root)
    return root


class _Hang(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Hang("kb validate took more than 10 s")


@pytest.fixture(autouse=True)
def hang_alarm() -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _alarm)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def check_answer(code: int, stdout: str, stderr: str, fuzzed: str) -> None:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert not RAW.search(stdout + stderr), ascii(stderr)
    if code == 0:
        assert stdout.startswith("ok: "), stdout
        return
    assert code == 1, (code, stderr)
    lines = stderr.rstrip("\n").split("\n")
    assert SUMMARY.match(lines[-1]), stderr
    problems = lines[:-1]
    assert problems and all(PROBLEM.match(line) for line in problems), stderr
    assert any(line.startswith(f"papers/{fuzzed}:") for line in problems), stderr


def validate_in_process(root: Path, name: str, content: bytes) -> None:
    path = root / "papers" / name
    original = (TOY / "papers" / name).read_bytes()
    path.write_bytes(content)
    try:
        signal.setitimer(signal.ITIMER_REAL, 10)
        result = CliRunner().invoke(app, ["--root", str(root), "validate"])
        signal.setitimer(signal.ITIMER_REAL, 0)
        if isinstance(result.exception, _Hang):
            raise AssertionError(f"kb validate hung on {content[:200]!r}")
        check_answer(result.exit_code, result.stdout, result.stderr, name)
    finally:
        path.write_bytes(original)


@fuzz(DATA_EXAMPLES)
@given(case=mutated_data())
def test_mutated_records_always_get_problems_or_ok(fuzz_root: Path, case: tuple[str, Any]) -> None:
    name, data = case
    TRIED["data"] = TRIED.get("data", 0) + 1
    validate_in_process(fuzz_root, name, dump(data))


@fuzz(BYTES_EXAMPLES)
@given(case=mutated_bytes())
def test_mutated_yaml_bytes_always_get_problems_or_ok(fuzz_root: Path, case: tuple[str, bytes]) -> None:
    name, content = case
    TRIED["bytes"] = TRIED.get("bytes", 0) + 1
    validate_in_process(fuzz_root, name, content)


@fuzz(4)
@given(case=st.one_of(mutated_data().map(lambda c: (c[0], dump(c[1]))), mutated_bytes()))
def test_the_installed_command_answers_the_same_way(fuzz_root: Path, case: tuple[str, bytes]) -> None:
    name, content = case
    path = fuzz_root / "papers" / name
    original = (TOY / "papers" / name).read_bytes()
    path.write_bytes(content)
    try:
        done = subprocess.run([*kb_executable(), "validate"], cwd=fuzz_root, capture_output=True, timeout=60,
                              env={**os.environ, "NO_COLOR": "1"})
        check_answer(done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8"), name)
    finally:
        path.write_bytes(original)
    TRIED["command"] = TRIED.get("command", 0) + 1


def test_report_how_many_mutations_ran() -> None:
    """Runs last in this module: the figure quoted in the docs."""
    total = sum(TRIED.values())
    print(f"\nfuzz: {TRIED} = {total} mutated files validated")
    if TRIED:
        assert total >= min(DATA_EXAMPLES, 100)
