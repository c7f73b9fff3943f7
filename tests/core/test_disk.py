"""Full and read-only disks (issue 15 #10): a real, small tmpfs. A full disk gives one clear line and
leaves nothing behind; a reading command never writes the live database, so it works on a read-only disk."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TOY, RunKb


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted afterwards. Needs root (CI and the development machines run as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Fill the disk, then free `leave` bytes."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    size = filler.stat().st_size
    os.truncate(filler, max(size - leave, 0))


def _leftovers(build: Path) -> list[str]:
    return sorted(p.name for p in build.iterdir() if p.name.startswith(".kb.sqlite") or "tmp" in p.name) if build.is_dir() else []


def test_full_disk_gives_one_line_and_leaves_nothing_behind(small_disk: Path, run_kb: RunKb) -> None:
    root = small_disk / "kb"
    shutil.copytree(TOY, root)
    (root / "build").mkdir()
    _fill(small_disk, leave=24 * 1024)  # room for the temporary file to start, not for the database
    result = run_kb("build", cwd=root)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == "kb: cannot write build/kb.sqlite: no space left on the device; free some space and run the command again"
    assert _leftovers(root / "build") == []
    assert not (root / "build" / "kb.sqlite").exists()

    (small_disk / "filler").unlink()
    again = run_kb("build", cwd=root)
    assert again.returncode == 0 and again.stdout.startswith("built: 5 papers"), again.stderr


def test_reading_commands_work_on_a_read_only_disk(small_disk: Path, run_kb: RunKb) -> None:
    root = small_disk / "kb"
    shutil.copytree(TOY, root)
    assert run_kb("build", cwd=root).returncode == 0
    database = root / "build" / "kb.sqlite"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    # Touch a record: the source stamp changes, the content does not.
    record = root / "papers" / "2311.16922.yaml"
    os.utime(record, ns=(record.stat().st_atime_ns, record.stat().st_mtime_ns + 10**9))
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)]).returncode == 0
    listed = run_kb("list", "--json", cwd=root)
    assert listed.returncode == 0, listed.stderr
    assert "internal error" not in listed.stderr and len(listed.stdout) > 10
    shown = run_kb("show", "2311.16922", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def test_a_reading_command_never_writes_the_live_database_in_place(toy_root: Path, run_kb: RunKb) -> None:
    assert run_kb("build", cwd=toy_root).returncode == 0
    database = toy_root / "build" / "kb.sqlite"
    same_file = toy_root / "build" / "witness.sqlite"
    os.link(database, same_file)  # a second name for the live file: an in-place write shows through it
    before = hashlib.sha256(same_file.read_bytes()).hexdigest()
    record = toy_root / "papers" / "2311.16922.yaml"
    os.utime(record, ns=(record.stat().st_atime_ns, record.stat().st_mtime_ns + 10**9))
    assert run_kb("list", cwd=toy_root).returncode == 0
    assert hashlib.sha256(same_file.read_bytes()).hexdigest() == before
    # The new stamp was recorded in a replacement, so the next command trusts the database at once.
    again = run_kb("build", cwd=toy_root)
    assert again.stdout.startswith("up to date: build/kb.sqlite"), again.stdout
    assert _leftovers(toy_root / "build") == []
