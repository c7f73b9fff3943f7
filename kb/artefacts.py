"""Every derived artefact under `build/`: where it lives, the one cache format, the one freshness rule.

**Where.** `Artefacts(project)` names every path the build writes: the database, the search base vectors,
the embedding cache, the search index, the site and its staging, the method results. Nothing else in the
package spells a path under `build/`.

**The cache format.** An artefact is a folder holding its files and a `manifest.json`, written last and
atomically: `{"format", "kind", "key", "stamp", "files": {name: {"size", "sha256"}}, "extra"}`. A reader
trusts the folder only when the manifest's format, kind and key are the ones it expects and every file has
the recorded size and checksum; anything else (a torn write, a hand edit, a file from another build) reads as
absent, so the artefact is rebuilt rather than trusted. Files above `CHECKSUM_LIMIT` bytes (the 47 MB static
model) are checked by size only: hashing them would cost a cold `kb search` a tenth of a second, and every
writer goes through `kb.atomic`, so a torn file cannot have the recorded size by accident.

**The freshness rule.** An artefact made from the records is current when the manifest's `stamp` equals
the cheap stamp of the input files on disk now (their names, sizes and times: then the records are not even
read), or, failing that, when its `key` equals the records' content fingerprint. `Inputs` holds both for one
command: the stamp is taken once and the records are loaded at most once, however many artefacts ask.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import atomic
from kb.project import Project, source_stamp

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

FORMAT = 1
MANIFEST = "manifest.json"
CHECKSUM_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True)
class Artefacts:
    """The paths of everything `kb` derives from a knowledge base."""

    project: Project

    @property
    def build(self) -> Path:
        return self.project.build_dir

    @property
    def database(self) -> Path:
        return self.build / "kb.sqlite"

    @property
    def parsed_records(self) -> Path:
        """The parsed YAML of the record files, by their content (`kb.parse_cache`)."""
        return self.build / "cache" / "parsed-records.json"

    @property
    def search_base(self) -> Path:
        """Token vectors distilled from the sentence-transformer (depends on the model only)."""
        return self.build / "search" / "base"

    @property
    def embeddings(self) -> Path:
        """Sentence-transformer vectors of texts, addressed by the texts' hashes."""
        return self.build / "search" / "embeddings"

    @property
    def search_tokens(self) -> Path:
        """Token ids of texts under the static model's tokenizer, addressed by the texts' hashes."""
        return self.build / "search" / "tokens"

    @property
    def search_index(self) -> Path:
        """The documents, their vectors and the weighted static model of the current records."""
        return self.build / "search" / "index"

    @property
    def site(self) -> Path:
        return self.build / "site"

    @property
    def map(self) -> Path:
        """The 2-D map of the papers (a projection of their sentence-transformer vectors)."""
        return self.build / "map"

    @property
    def site_source(self) -> Path:
        """The generated mkdocs source folder."""
        return self.project.root / ".site-src"

    @property
    def xai(self) -> Path:
        return self.build / "xai"


# -- the cache format -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    kind: str
    key: str
    stamp: str
    files: Mapping[str, Mapping[str, Any]]
    extra: Mapping[str, Any] = field(default_factory=dict)


def read_manifest(folder: Path, kind: str) -> Manifest | None:
    """The folder's manifest when it is one of ours and of this kind; None otherwise."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("kind") != kind:
        return None
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        return None
    return Manifest(kind, str(data.get("key", "")), str(data.get("stamp", "")), files, data.get("extra") or {})


def intact(folder: Path, manifest: Manifest) -> bool:
    """Every file the manifest lists is there with its recorded size (and checksum, below the limit)."""
    for name, entry in manifest.files.items():
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            return False
        if size != entry.get("size"):
            return False
        if size <= CHECKSUM_LIMIT and _sha256(path) != entry.get("sha256"):
            return False
    return True


def open_artefact(folder: Path, kind: str) -> Manifest | None:
    """The manifest of an intact artefact of this kind, or None (then the caller rebuilds)."""
    manifest = read_manifest(folder, kind)
    return manifest if manifest is not None and intact(folder, manifest) else None


Writer = Callable[[Path], None]


def write_artefact(
    folder: Path,
    kind: str,
    key: str,
    stamp: str,
    files: Mapping[str, bytes | Writer],
    extra: Mapping[str, Any] | None = None,
) -> Manifest:
    """Write each file atomically (bytes, or a function that writes a given temporary path), then the
    manifest; files of an earlier build that the new manifest does not list are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict[str, Any]] = {}
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            atomic.write_bytes(path, content)
        else:
            with atomic.replacing(path) as temp:
                content(temp)
        entries[name] = {"size": path.stat().st_size, "sha256": _sha256(path)}
    manifest = Manifest(kind, key, stamp, entries, dict(extra or {}))
    _write_manifest(folder, manifest)
    for path in folder.iterdir():
        if path.is_file() and path.name != MANIFEST and path.name not in entries and not path.name.startswith("."):
            path.unlink(missing_ok=True)
    return manifest


def restamp(folder: Path, manifest: Manifest, stamp: str) -> Manifest:
    """Record that the artefact is current for the input files as they are now (their content is unchanged)."""
    updated = Manifest(manifest.kind, manifest.key, stamp, manifest.files, manifest.extra)
    _write_manifest(folder, updated)
    return updated


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    data = {
        "format": FORMAT,
        "kind": manifest.kind,
        "key": manifest.key,
        "stamp": manifest.stamp,
        "files": dict(manifest.files),
        "extra": dict(manifest.extra),
    }
    atomic.write_bytes(folder / MANIFEST, json.dumps(data, indent=1).encode())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- the freshness rule ---------------------------------------------------------------------------------


class Inputs:
    """The records and taxonomy one command works from: stamped once, loaded at most once."""

    def __init__(
        self, project: Project, kb: KnowledgeBase | None = None, *, partial: bool = False, with_triage: bool = True
    ) -> None:
        """`partial`: `kb` is not the whole of the files on disk (a draft or a broken file was left out), so
        the files' stamp says nothing about it: artefacts are then judged and written by content alone."""
        self.project = project
        self.artefacts = Artefacts(project)
        self._kb = kb
        self.partial = partial
        self.with_triage = with_triage

    @cached_property
    def stamp(self) -> str:
        return "" if self.partial else source_stamp(self.project)

    @property
    def loaded(self) -> bool:
        return self._kb is not None

    @property
    def kb(self) -> KnowledgeBase:
        if self._kb is None:
            from kb.loader import load

            self._kb = load(self.project, with_triage=self.with_triage)
        return self._kb

    @cached_property
    def fingerprint(self) -> str:
        return self.kb.fingerprint()

    def current(self, manifest: Manifest, salt: str = "") -> bool:
        """The one rule: made with the same `salt` (whatever else it depends on, e.g. a model), and from
        unchanged files on disk or else from unchanged content (loading the records once)."""
        if manifest.key.partition(":")[2] != salt:
            return False
        return (bool(self.stamp) and manifest.stamp == self.stamp) or manifest.key == self.key(salt)

    def key(self, salt: str = "") -> str:
        """The content key of an artefact built from these records and `salt`."""
        return f"{self.fingerprint}:{salt}"
