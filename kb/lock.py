"""An exclusive lock between processes that write the same build folder (`kb site build`, `kb site serve`).

An advisory `flock` on a lock file: the kernel releases it when the holder exits, however it exits, so
a killed build never leaves a stale lock behind. A second process waits for the first to finish.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.errors import WriteFailed


@contextmanager
def held(path: Path) -> Iterator[None]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise WriteFailed(path, exc) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
