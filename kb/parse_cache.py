"""The parsed YAML of record files, kept between commands by the files' content.

Parsing is most of the cost of loading (libyaml's events, then our line-keeping composer: 1.3 s of the
1.9 s that 5,000 records take on one core); validation is the rest. The cache keeps the parse only:
every record is still validated, each time, against the taxonomy of the day, so a record that was
valid yesterday and is not today is still reported. An entry is used only for the very bytes it was
parsed from (by their hash) and only by the parser that made it (the hash of `yamlfile`'s source and
PyYAML's version), and it holds plain JSON data, never code. Line numbers are not kept: a problem is
rare, and then the file is parsed again for them.

The cache is a convenience, never a requirement: a missing, unreadable or foreign file reads as empty,
and a cache that cannot be written (a read-only checkout) is left alone.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kb import atomic, yamlfile
from kb.errors import WriteFailed

FORMAT = 1


@cache
def _parser() -> str:
    source = Path(yamlfile.__file__).read_bytes()
    return f"{FORMAT}:{hashlib.sha256(source).hexdigest()}:{yaml.__version__}"


def content_hash(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


class ParseCache:
    """Parsed data of record files by shown path, for the bytes each was parsed from. Without a path it
    only collects (a worker process's parses, sent to the parent's cache)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._old: dict[str, list[Any]] = {}
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("parser") == _parser() and isinstance(data.get("files"), dict):
                    self._old = data["files"]
            except (OSError, ValueError, RecursionError):
                pass
        self._new: dict[str, list[Any]] = {}  # the files read this time
        self._changed = False

    def knows(self, shown: str) -> bool:
        """Whether this file was parsed before (from these bytes or others)."""
        return shown in self._old

    def get(self, shown: str, raw: bytes) -> dict[str, Any] | None:
        """The parsed mapping of these bytes, when this file was parsed from the same bytes before."""
        entry = self._old.get(shown)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == content_hash(raw) and isinstance(entry[1], dict):
            self._new[shown] = entry
            return entry[1]
        return None

    def put(self, shown: str, raw: bytes, data: dict[str, Any]) -> None:
        self._new[shown] = [content_hash(raw), data]
        self._changed = True

    def merge(self, other: ParseCache) -> None:
        self._new.update(other._new)
        self._changed = self._changed or other._changed

    def save(self) -> None:
        """Keep the entries of the files read this time (a removed file's entry goes)."""
        if self.path is None or (not self._changed and self._new.keys() == self._old.keys()):
            return
        text = json.dumps({"parser": _parser(), "files": self._new}, ensure_ascii=False, separators=(",", ":"))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_bytes(self.path, text.encode("utf-8"))
        except (OSError, WriteFailed):
            pass  # a read-only checkout: the next load parses again
