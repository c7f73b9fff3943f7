"""Atomic file replacement: a reader sees the old file or the new one, never half of either.

Everything under `build/` and every record `kb add` writes goes through here: the content is written to
a temporary file in the target's folder (same file system, so the rename is atomic), then renamed over
the target. On any failure the temporary file is removed and the target is left as it was.

The temporary file gets the permissions a plain `open()` would give (the umask's, or the replaced
file's own), not mkstemp's 0600. Its name carries the writer's process id, so a later run can tell the
leftovers of a killed writer (`clean_leftovers`) from the file of a writer still at work.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from kb.errors import Conflict, WriteFailed

# errno values that mean "this write cannot succeed here" rather than a bug: reported as WriteFailed.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}
# .<target name>.<pid>.<random>.tmp, plus the journal files SQLite keeps beside a database being written.
_TEMP = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp(?:-journal|-wal|-shm)?$")
# Temporary files of earlier versions had no process id; past this age nobody is writing them.
_OLD_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp(?:-journal|-wal|-shm)?$")
OLD_TEMP_AGE = 24 * 3600


def default_mode() -> int:
    """0666 less the process umask: what `open(path, 'w')` would create."""
    try:  # /proc holds the umask without changing it (os.umask can only be read by setting it)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` for a writer that needs a file name (SQLite, torch, faiss)."""
    with _temporary(path) as temp:
        yield temp
        _rename(temp, path)


@contextmanager
def _temporary(path: Path) -> Iterator[Path]:
    """A new empty temporary file beside `path` with the final permissions; removed (with any SQLite
    journal) whatever happens. OSErrors of a full or read-only disk become WriteFailed naming `path`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = _temp_path(path)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            mode = default_mode()
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            os.fchmod(fd, mode)  # set, not requested: open()'s mode would be cut by the umask again
        finally:
            os.close(fd)
    except OSError as exc:
        raise _failure(path, exc) from exc
    try:
        yield temp
    except OSError as exc:
        raise _failure(path, exc) from exc
    finally:
        for leftover in (temp, *(temp.with_name(temp.name + s) for s in ("-journal", "-wal", "-shm"))):
            with suppress(OSError):
                leftover.unlink()


def _failure(path: Path, exc: OSError) -> Exception:
    return WriteFailed(path, exc) if exc.errno in _WRITE_ERRNOS else exc


def _rename(temp: Path, path: Path) -> None:
    try:
        os.replace(temp, path)
    except OSError as exc:
        raise _failure(path, exc) from exc


def write_bytes(path: Path, data: bytes) -> None:
    with replacing(path) as temp:
        temp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """UTF-8 with '\\n' line ends on every platform, so records diff the same everywhere."""
    write_bytes(path, text.encode("utf-8"))


def create_text(path: Path, text: str, shown: str | None = None) -> None:
    """Write a new file, complete, only if nothing is at `path` yet; Conflict if something is.

    The content goes to a temporary file first and is then hard-linked into place: the link fails when
    the name exists, so of two processes creating the same file exactly one succeeds, and nobody ever
    sees it half-written.
    """
    with _temporary(path) as temp:
        temp.write_bytes(text.encode("utf-8"))
        try:
            os.link(temp, path)
        except FileExistsError:
            where = shown or str(path)
            raise Conflict(
                where,
                f"{where} was created by someone else while this command ran; nothing written",
                hint="look at it, then run the command again",
            ) from None
        except OSError as exc:
            raise _failure(path, exc) from exc


def replace_text_if_unchanged(path: Path, expected: str, text: str, shown: str | None = None) -> None:
    """Replace `path` with `text` only if it still holds `expected`; Conflict if another process changed it.

    The check and the rename happen under an exclusive lock on the file being replaced, which every
    writer going through here takes, so two writers cannot both pass the check.
    """
    where = shown or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise Conflict(
            where, f"{where} was removed while this command ran; nothing written", hint="run the command again"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with open(path, "rb") as current:  # by name: a writer before us may have replaced the file
                now = current.read()
        except FileNotFoundError:
            now = None
        if now != expected.encode("utf-8"):
            raise Conflict(
                where,
                f"{where} was changed by someone else while this command ran; nothing written",
                hint="look at the change, then run the command again",
            )
        write_text(path, text)
    finally:
        os.close(fd)  # releases the lock


def clean_leftovers(folder: Path) -> list[Path]:
    """Remove the temporary files that killed writers left in `folder`; returns what was removed.

    A temporary file whose writer is still running is kept, whoever started it.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP.match(entry.name)
        stale = False
        if match is not None:
            stale = not _alive(int(match.group(1)))
        elif _OLD_TEMP.match(entry.name):
            with suppress(OSError):
                stale = now - entry.stat(follow_symlinks=False).st_mtime > OLD_TEMP_AGE
        else:
            continue
        if stale and entry.is_file(follow_symlinks=False):
            with suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
