"""Where a knowledge base lives on disk and where its build artefacts go."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from kb.errors import KbError

DATABASE_URL_ENV = "KB_DATABASE_URL"


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def find(cls, root: Path | None = None) -> Project:
        """The knowledge base at `root`, or the nearest folder upwards from the working directory with a taxonomy."""
        if root is not None:
            project = cls(root.resolve())
            if not project.taxonomy_dir.is_dir():
                raise KbError(f"{root}: not a knowledge base (no taxonomy/ folder)")
            return project
        here = Path.cwd().resolve()
        for candidate in (here, *here.parents):
            if (candidate / "taxonomy").is_dir() and (candidate / "papers").is_dir():
                return cls(candidate)
        raise KbError(f"{here}: not inside a knowledge base (no taxonomy/ and papers/ folders); use --root DIR")

    @property
    def taxonomy_dir(self) -> Path:
        return self.root / "taxonomy"

    @property
    def papers_dir(self) -> Path:
        return self.root / "papers"

    @property
    def triage_path(self) -> Path:
        """Papers read and judged out of scope, with reasons (see kb.triage)."""
        return self.root / "curation" / "excluded.yaml"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def database_path(self) -> Path:
        return self.build_dir / "kb.sqlite"

    @property
    def database_url(self) -> str:
        """SQLite in the build folder by default; any SQLAlchemy URL (e.g. PostgreSQL) through KB_DATABASE_URL."""
        return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{self.database_path}"

    def shown(self, path: Path) -> str:
        """A path as a contributor typed it: relative to the knowledge base when inside it."""
        text, root = str(path), str(self.root)
        # The string test is what is_relative_to does, at a fifth of the cost: it runs several times per record.
        if text.startswith(root) and text[len(root) : len(root) + 1] == os.sep and path.is_absolute():
            return text[len(root) + 1 :]
        try:  # the folder only: a link named on the command line is shown as the link, not its target
            resolved = path.absolute().parent.resolve() / path.name
        except (OSError, RuntimeError):  # a link loop in the folder's path
            return str(path)
        return str(resolved.relative_to(self.root)) if resolved.is_relative_to(self.root) else str(path)


def source_stamp(project: Project) -> str:
    """A cheap fingerprint of the input files from their names, sizes and modification times.

    It lets commands trust an existing build without re-reading every record; when it differs, the
    records are loaded and their content hash decides whether anything really changed.
    """
    digest = hashlib.sha256()
    for folder in (project.taxonomy_dir, project.papers_dir):
        if not folder.is_dir():
            continue
        # Every entry, links and special files included, each by its own lstat: never read, never followed.
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            info = entry.stat(follow_symlinks=False)
            digest.update(f"{entry.name}\0{info.st_mode:o}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()
