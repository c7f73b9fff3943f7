"""The exceptions the package raises on purpose. Only `kb.cli` turns them into messages.

Each error carries the values a message is made of (the path, the field, the offending value, the
setting, the service) as attributes, so callers and tests can act on them without parsing text, and the
CLI can render them as one escaped line with a hint. The library never prints.

    KbError                      anything expected; `hint` says what to do next
    ├── ValidationFailed         input files are invalid: every Problem (path, line, field, message)
    ├── InputError               one input file cannot be used (path, line, field, value)
    ├── ConfigError              a setting or option has an unusable value (name, value)
    ├── NotFound                 a named thing does not exist (kind, value)
    ├── RemoteError              a network service failed (service, url)
    │   ├── RemoteTimeout        ... did not finish within the deadline (seconds)
    │   ├── RemoteRefused        ... answered an HTTP error status (status)
    │   └── RemoteAnswerInvalid  ... answered something unusable: too large, not XML/JSON, empty
    ├── WriteFailed              a file could not be written: disk full, read-only (path, errno)
    ├── Conflict                 another process changed a file while this one worked (path)
    └── BuildOutdated            a build artefact does not match the records it was made from
"""

from __future__ import annotations

import errno as errnos
import os
from collections.abc import Sequence
from pathlib import Path

from kb.problem import Problem


class KbError(Exception):
    """An expected failure with a message fit for a user, and an optional hint on what to do."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ValidationFailed(KbError):
    """One or more input files are invalid; every problem is carried, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line or 0, p.field or "", p.message))
        super().__init__(f"{len(self.problems)} problem(s) found")


class InputError(KbError):
    """One input file cannot be used as it is."""

    def __init__(
        self,
        path: str,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
        hint: str | None = None,
    ) -> None:
        self.problem = Problem(path, line, field, message)
        self.path, self.line, self.field, self.value = path, line, field, value
        super().__init__(str(self.problem), hint=hint)


class ConfigError(KbError):
    """A setting (environment variable or option) holds a value that cannot be used."""

    def __init__(self, name: str, value: object, message: str, *, hint: str | None = None) -> None:
        self.name, self.value = name, value
        super().__init__(f"{name}={value!r} {message}", hint=hint)


class NotFound(KbError):
    """A paper, area, record or folder named by the user does not exist."""

    def __init__(self, kind: str, value: str, message: str, *, hint: str | None = None) -> None:
        self.kind, self.value = kind, value
        super().__init__(message, hint=hint)


class RemoteError(KbError):
    """A network service could not be used."""

    def __init__(self, service: str, url: str, message: str, *, hint: str | None = None) -> None:
        self.service, self.url = service, url
        super().__init__(message, hint=hint)


class RemoteTimeout(RemoteError):
    def __init__(self, service: str, url: str, seconds: float, message: str, *, hint: str | None = None) -> None:
        self.seconds = seconds
        super().__init__(service, url, message, hint=hint)


class RemoteRefused(RemoteError):
    def __init__(self, service: str, url: str, status: int, message: str, *, hint: str | None = None) -> None:
        self.status = status
        super().__init__(service, url, message, hint=hint)


class RemoteAnswerInvalid(RemoteError):
    """The service answered, but not with something usable (too large, malformed, empty, an HTML page)."""


class WriteFailed(KbError):
    """Writing a file failed; nothing was left half-written."""

    def __init__(self, path: Path | str, error: OSError) -> None:
        self.path = str(path)
        self.errno = error.errno
        full = error.errno in (errnos.ENOSPC, errnos.EDQUOT)
        if full:
            reason = "no space left on the device"
        elif error.errno == errnos.EROFS:
            reason = "the file system is read-only"
        else:
            reason = os.strerror(error.errno) if error.errno else str(error)
        hint = "free some space and run the command again" if full else None
        super().__init__(f"cannot write {self.path}: {reason}", hint=hint)


class Conflict(KbError):
    """Another process wrote the file this one was about to write; nothing was written."""

    def __init__(self, path: str, message: str, *, hint: str | None = None) -> None:
        self.path = path
        super().__init__(message, hint=hint)


class BuildOutdated(KbError):
    """A build artefact does not match the records it was made from."""
