"""The jobs `kb site build` runs in a forked child (kb.site.background): each job's outcome reaches the caller,
a failed job does not stop the next one, and a child that dies is a failure, not a hang."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from kb.errors import KbError
from kb.site.background import Background


def test_a_failed_job_is_raised_where_it_is_waited_for_and_the_next_job_still_runs(tmp_path: Path) -> None:
    def fails() -> None:
        raise KbError("cannot embed", hint="install the search extra")

    def writes() -> None:
        (tmp_path / "done").write_text(str(os.getpid()))

    with Background([("embedding", fails), ("database", writes)]) as background:
        with pytest.raises(KbError) as caught:
            background.wait("embedding")
        assert (caught.value.message, caught.value.hint) == ("cannot embed", "install the search extra")
        assert background.ended("database", timeout=30)
        background.wait("database")
    assert int((tmp_path / "done").read_text()) != os.getpid()  # it ran in the child


def test_a_bug_brings_its_traceback_and_a_killed_child_is_a_failure() -> None:
    def bug() -> None:
        raise ZeroDivisionError("a bug in the job")

    def killed() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with Background([("first", bug), ("second", killed), ("third", lambda: None)]) as background:
        with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug in the job"):
            background.wait("first")
        with pytest.raises(RuntimeError, match="the third job stopped"):
            background.wait("third")
