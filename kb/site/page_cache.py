"""Record pages are made again only when something they show changed.

Each paper, tag, venue and author page gets a key: a hash of everything it is made from. That is the
code of this package, the site settings, the taxonomy, and the methods catalogue, shared by all pages.
It is also the records the page shows, each through its *appearance*: the record's content, with the
addresses of its authors' and venue's pages (an author's address can change when another author with
the same slug arrives). A paper page also counts its neighbours and the order they come in: lineage
both ways, citations both ways, nearest in meaning. It also counts whether its references were read.

A page whose key equals the key it had in the last build is not rendered: its file under
`.site-src/.pages/` is what rendering would write again. The keys of the last build are kept in
`.site-src/.pages/keys.json`. The file is removed when a build starts and written only once every page
is on disk, so a build killed midway, with some page files half-written, leaves no keys, and the next
build renders everything. A wrong key would leave a stale page, so a test compares a rebuild after edits
with a build from scratch, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from kb import atomic
from kb.knowledge_base import taxonomy_data
from kb.records import Record
from kb.site.context import SiteContext

KEYS = "keys.json"
ROWS = "rows.json"
FORMAT = 1
_PACKAGE = Path(__file__).resolve().parents[1]  # kb/


def code_digest() -> str:
    """The source of the whole `kb` package: a page may be shaped by any module it imports."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = Path(folder) / name
                digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class PageKeys:
    """The key of each record page of one build (see the module's docstring)."""

    def __init__(self, ctx: SiteContext) -> None:
        self.ctx = ctx

    @cached_property
    def shared(self) -> str:
        ctx = self.ctx
        methods = sorted((name, repr(method)) for name, method in ctx.methods.items())
        data = [FORMAT, code_digest(), repr(ctx.settings), taxonomy_data(ctx.kb.taxonomy), methods]
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=repr).encode()).hexdigest()

    @cached_property
    def appearances(self) -> dict[str, str]:
        """Each record's appearance, by id: its content and the addresses of its author and venue pages."""
        return {r.id: self._appearance(r) for r in self.ctx.kb}

    def _appearance(self, record: Record) -> str:
        ctx = self.ctx
        venue = ctx.venue_of.get(record.id)
        addresses = [ctx.author_doc(a) for a in record.authors]
        if venue is not None:
            addresses.append(ctx.venue_doc(venue.series))
        content = ctx.kb.record_hashes[record.id]
        return hashlib.sha256((content + "\0" + "\0".join(addresses)).encode()).hexdigest()

    def _key(self, doc: str, extra: object, shown: Iterable[str]) -> str:
        appearances = self.appearances
        head = f"{self.shared}\0{doc}\0{json.dumps(extra, default=repr)}\0"
        # Joined, not JSON-encoded: ids and hex digests hold no NUL, and a tag page lists up to every record.
        body = "\0".join(f"{i}\0{appearances.get(i, '')}" for i in shown)
        return hashlib.sha256((head + body).encode()).hexdigest()

    def paper(self, doc: str, record: Record) -> str:
        ctx = self.ctx
        shown = [record.id, *(edge.id for edge in record.builds_on), *record.cites]
        shown += [other.id for other, _ in ctx.built_on_by.get(record.id, [])]
        shown += [other.id for other in ctx.cited_by.get(record.id, [])]
        shown += [paper_id for paper_id, _ in ctx.related.get(record.id, [])]
        fetched = ctx.citations_fetched is None or record.id in ctx.citations_fetched
        return self._key(doc, ["paper", fetched, ctx.methods_of(record.id)], shown)

    def listing(self, doc: str, kind: str, name: str, records: Iterable[Record]) -> str:
        """A tag, venue or author page: the records it lists, in the order they come in."""
        return self._key(doc, [kind, name], [r.id for r in records])


class RowCache:
    """Fragments of HTML made from one record (a table row, a list item, a link), by (kind, record id, climb
    to the site root), kept between builds in `.site-src/.pages/rows.json`. A fragment is used again while
    the code, settings and taxonomy (the shared key) and the record's appearance are what they were: a tag
    page listing every paper is made again when one paper changes, and its other 4,999 rows are not.

    A fragment is kept once for every depth: its links to site pages all start with the climb to the root
    (`SiteContext.href`), which is stored as a mark and put back for the page asking. Each entry carries the
    appearance it was made from, so the file needs no removal at the start of a build: an entry is right
    for its appearance whenever it was written."""

    MARK = 'href="\0'

    def __init__(self, folder: Path, keys: PageKeys) -> None:
        self.path = folder / ROWS
        self.name = f"{folder.name}/{ROWS}"  # in the site source, whose sync must keep it (`generate._sync`)
        self.keys = keys
        self._entries: dict[str, list[str]] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("shared") == keys.shared and isinstance(data.get("rows"), dict):
                self._entries = data["rows"]
        except (OSError, ValueError, RecursionError):
            pass
        self._changed = False

    def get(self, key: tuple[str, str, str]) -> str | None:
        _, paper_id, climb = key
        entry = self._entries.get(self._name(key))
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == self.keys.appearances.get(paper_id):
            return entry[1].replace(self.MARK, f'href="{climb}') if climb else entry[1]
        return None

    def __setitem__(self, key: tuple[str, str, str], html: str) -> None:
        climb = key[2]
        stored = html.replace(f'href="{climb}', self.MARK) if climb else html
        self._entries[self._name(key)] = [self.keys.appearances[key[1]], stored]
        self._changed = True

    @staticmethod
    def _name(key: tuple[str, str, str]) -> str:
        """A page at the site root has no climb to mark (every href would match): its fragments are its own."""
        kind, paper_id, climb = key
        return f"{kind}\0{paper_id}" if climb else f"{kind}\0{paper_id}\0root"

    def save(self) -> None:
        """Write the entries still right for their records (a removed or changed record's go)."""
        if not self._changed:
            return
        appearances = self.keys.appearances
        rows = {
            name: entry for name, entry in self._entries.items() if entry[0] == appearances.get(name.split("\0")[1])
        }
        data = {"shared": self.keys.shared, "rows": rows}
        atomic.write_bytes(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


class PageCache:
    """The keys of the last build, and those of this one as pages are made or kept."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / KEYS
        self._old: dict[str, str] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
                self._old = data
        except (OSError, ValueError, RecursionError):
            pass
        # Gone until this build has written every page (see the module's docstring).
        self.path.unlink(missing_ok=True)
        self.keys: dict[str, str] = {}  # this build's, by doc

    def fresh(self, doc: str, key: str) -> bool:
        """Whether the page file of `doc` on disk is the one this key makes; the key is noted either way."""
        self.keys[doc] = key
        return self._old.get(doc) == key

    def save(self) -> None:
        atomic.write_bytes(self.path, json.dumps(self.keys, separators=(",", ":")).encode())
