"""Atomic file replacement: a reader sees the old file or the new one, never half of either.

Everything under `build/` and every record `kb add` writes goes through here: the content is written to
a temporary file in the target's folder (same file system, so the rename is atomic), then renamed over
the target. On any failure the temporary file is removed and the target is left as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` for a writer that needs a file name (SQLite, torch, faiss)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    with replacing(path) as temp:
        temp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """UTF-8 with '\\n' line ends on every platform, so records diff the same everywhere."""
    with replacing(path) as temp:
        with temp.open("w", encoding="utf-8", newline="\n") as out:
            out.write(text)
