"""The exceptions the package raises on purpose. Only `kb.cli` turns them into messages."""

from __future__ import annotations

from collections.abc import Sequence

from kb.problem import Problem


class KbError(Exception):
    """An expected failure with a message fit for a user."""


class ValidationFailed(KbError):
    """One or more input files are invalid; every problem is carried, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line or 0, p.field or "", p.message))
        super().__init__(f"{len(self.problems)} problem(s) found")


class BuildOutdated(KbError):
    """A build artefact does not match the records it was made from."""
