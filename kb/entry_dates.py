"""The date each record entered the knowledge base, from data: its `added` field, else git history.

For a record without `added` (every record written before the field existed), the date is the author date of
the commit that added its file, read with one `git log` call for all files. When git or the history is not
there (an exported tarball, a shallow clone whose first commit would claim every file), the date is unknown:
never the build's clock, so a rebuild never makes old papers look new.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

from kb.knowledge_base import KnowledgeBase

GIT_TIMEOUT = 60.0


def entry_dates(kb: KnowledgeBase, root: Path) -> dict[str, dt.date]:
    """Record id -> the date it entered; records whose date is unknown are absent."""
    out = {r.id: r.added for r in kb if r.added is not None}
    missing = [r.id for r in kb if r.added is None and r.id in kb.files]
    added = added_by_git(root) if missing else {}
    if added:
        top = root.resolve()
        for paper_id in missing:
            path = kb.files[paper_id]
            try:
                key = path.resolve().relative_to(top).as_posix()
            except ValueError:
                continue
            if key in added:
                out[paper_id] = added[key]
    return out


def added_by_git(root: Path) -> dict[str, dt.date]:
    """File path (relative to `root`) -> the date of the oldest commit that added it under papers/; empty
    when git is missing, `root` is not in a repository, or the clone is shallow."""
    git = shutil.which("git")
    if git is None:
        return {}

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(  # noqa: S603 - git with fixed arguments, no shell
                [git, *args], cwd=root, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    if (run("rev-parse", "--is-shallow-repository") or "").strip() != "false":
        return {}  # not a repository (None), or shallow: its oldest commit would claim to have added everything
    # One call for every file: each commit prints "\0<date>", then the files it added. --relative keeps the
    # paths relative to `root` even when the knowledge base is a folder inside a larger repository.
    log = run("log", "--diff-filter=A", "--no-renames", "--name-only", "--relative", "--format=%x00%as", "--", "papers")
    if log is None:
        return {}
    out: dict[str, dt.date] = {}
    date: dt.date | None = None
    for line in log.splitlines():
        if line.startswith("\0"):
            try:
                date = dt.date.fromisoformat(line[1:].strip())
            except ValueError:
                date = None
        elif line.strip() and date is not None:
            out[line.strip()] = date  # newest first: the last one seen is the oldest addition
    return out
