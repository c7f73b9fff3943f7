"""Record pages without a trip through mkdocs each: the theme renders one empty shell page per folder depth,
and every paper, tag, author and venue page is that shell with its title, description, canonical address,
head tags and body put in.

Why: mkdocs-material renders a page in tens of milliseconds (Markdown, the nav, the theme's templates), so a
knowledge base of 5,000 papers with their authors' pages spent minutes in mkdocs. Pages made from records are
raw HTML already (`markdown_safety`), so nothing is lost by skipping Markdown; the shell keeps the theme's
header, search box, footer, palette and scripts byte for byte, and relative links work because a page and its
shell sit at the same depth.

How: `generate` writes each page (a line of JSON, then its body) under `.site-src/.pages/` (mkdocs ignores dot folders)
and the
shells as ordinary Markdown pages under `_shell/`; the mkdocs hook in site/theme/hooks.py calls
`on_post_build`, which fills the shells into the built site, removes them, and writes the sitemap of every
page. Generated pages that mkdocs does render (areas, indexes, the map: they are in the nav) keep their heavy
HTML out of Markdown the same way: a placeholder in the page, the HTML under `.site-src/.inserts/`, put in by
the same hook (mkdocs' HTML parsing of a 500-row table took seconds a page). `kb site build`, `kb site serve` and a
plain `mkdocs build` all run the hook.

A rebuild reuses what did not change. `generate` makes only the record pages whose key changed
(`kb.site.page_cache`); `kb site build` names the published site and the keys and shell digests it was made
from (`reusing`), and a page whose key and shell are unchanged is hard-linked from it without being read or
filled. Any other filled page that is byte for byte the published one is linked too. On this machine's ext4,
creating 10,000 20 KiB files takes ~9 s and linking them ~1.4 s. The published site is never written to (a
build writes a new folder), so sharing its files is safe. The folders themselves are moved over from the site
published before that one (`build/site-spare/`, which `kb site build` keeps), not made again.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from kb.site.address import doc_url

PAGES = ".pages"
INSERTS = ".inserts"
SHELLS = "_shell"
TITLE = "kb-shell-title-2f7c"
DESCRIPTION = "kb-shell-description-2f7c"
BODY = '<div class="kb-shell-body"><h1>kb-shell-body-2f7c</h1></div>'
HEAD = "<!--kb-shell-head-->"


@dataclass(frozen=True)
class Page:
    doc: str  # where the page would be as Markdown: papers/2311.16922.md (address papers/2311.16922/)
    title: str
    description: str
    body: str  # HTML, record text already escaped
    head: str = ""  # extra tags for <head>: citation_* meta tags

    def to_bytes(self) -> bytes:
        """One line of JSON with everything but the body, then the body as it is (no escaping to pay for)."""
        meta = {"doc": self.doc, "title": self.title, "description": self.description, "head": self.head}
        return (json.dumps(meta, ensure_ascii=False) + "\n" + self.body).encode()

    @classmethod
    def from_bytes(cls, data: str) -> Page:
        line, _, body = data.partition("\n")
        return cls(body=body, **json.loads(line))


def insert_marker() -> str:
    return '<div class="kb-insert-2f7c"></div>'


def insert_file(doc: str) -> str:
    """Where `generate` writes the heavy part of the mkdocs page `doc`, relative to the docs folder."""
    return f"{INSERTS}/{doc.removesuffix('.md')}.html"


def page_file(doc: str) -> str:
    """Where `generate` writes a page, relative to the docs folder."""
    return f"{PAGES}/{doc.removesuffix('.md')}.page"


def depth(doc: str) -> int:
    return doc_url(doc).count("/")


def shell_doc(levels: int) -> str:
    """The shell page for addresses `levels` folders deep: 2 -> _shell/s.md (address _shell/s/)."""
    if levels < 2:
        raise ValueError("record pages live at least two folders deep (papers/x/)")
    return f"{SHELLS}/" + "s/" * (levels - 2) + "s.md"


def shell_markdown() -> str:
    return f"---\ntitle: {TITLE}\ndescription: {DESCRIPTION}\nkb_shell: true\nhide: [navigation, toc]\n---\n\n{BODY}\n"


# -- the hook side: runs inside the mkdocs build ------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """What the published site was made from: its folder, each record page's key (`kb.site.page_cache`) and a
    digest of the shell each depth's pages were filled into. `kb site build` keeps this beside the site."""

    site: Path
    keys: dict[str, str]
    shells: dict[int, str]


@dataclass
class _Reuse:
    previous: Published | None = None
    keys: dict[str, str] | None = None  # this build's keys, by doc
    shells: dict[int, str] | None = None  # this build's shell digests, set by the hook
    spare: Published | None = None  # the site published before `previous`: its page folders are taken over


_reuse: list[_Reuse] = []  # set by `reusing` for the mkdocs build inside it


@contextmanager
def reusing(
    previous: Published | None, keys: dict[str, str] | None = None, spare: Published | None = None
) -> Iterator[_Reuse]:
    """While the mkdocs build inside runs, pages of the published site are reused instead of written: a page
    made from the same key and shell is linked from it without being read or filled again, and any other page
    that comes out byte for byte the same is linked too. The value yielded holds this build's shell digests
    once the build is done.

    With a `spare` (the site published before that one, which nobody reads), each record page's folder is
    moved over from it rather than made: a new folder costs ~0.13 ms on this machine's ext4 and a move 0.03,
    which is a second and a half for 10,000 pages. A page whose spare copy was made from the same key into
    the same shell is kept as it is; any other is replaced by a new file, never written into, because
    the spare's files may be the published site's too (linked)."""
    state = _Reuse(
        previous if previous is not None and previous.site.is_dir() else None,
        keys,
        spare=spare if spare is not None and spare.site.is_dir() else None,
    )
    _reuse[:] = [state]
    try:
        yield state
    finally:
        _reuse.clear()


def on_post_build(config: Any) -> None:
    docs = Path(config["docs_dir"])
    site = Path(config["site_dir"])
    site_url = str(config.get("site_url") or "")
    if site_url and not site_url.endswith("/"):
        site_url += "/"
    shells = _read_shells(site, site_url)
    digests = {levels: hashlib.sha256(repr(shell).encode()).hexdigest() for levels, shell in shells.items()}
    state = _reuse[0] if _reuse else _Reuse()
    state.shells = digests
    previous, spare = state.previous, state.spare
    same = _unchanged(previous, state.keys or {}, digests)
    kept = _unchanged(spare, state.keys or {}, digests)
    parents: set[str] = set()
    written: list[str] = []
    for name in _page_files(docs / PAGES):
        doc = name.removesuffix(".page") + ".md"
        address = doc_url(doc)
        # Strings, not Paths, in this loop: it runs once per record page.
        out = f"{site}/{address}index.html"
        written.append(address)
        if spare is not None and _take_over(f"{spare.site}/{address}", f"{site}/{address}", parents):
            if doc in kept:
                continue
            with suppress(FileNotFoundError):
                os.unlink(out)
        else:
            os.makedirs(f"{site}/{address}", exist_ok=True)
        if doc in same and previous is not None and _link(f"{previous.site}/{address}index.html", out):
            continue
        page = Page.from_bytes((docs / PAGES / name).read_text(encoding="utf-8"))
        shell = shells.get(address.count("/"))
        if shell is None:
            raise RuntimeError(f"no shell page for {address} ({address.count('/')} folders deep)")
        _put(out, fill(shell, page, site_url).encode(), address)
    shutil.rmtree(site / SHELLS, ignore_errors=True)
    _put_inserts(docs, site)
    write_sitemap(site, site_url, written)


def _page_files(folder: Path) -> list[str]:
    """The page files under `folder`, relative and sorted (strings: there is one per record page)."""
    out = []
    for where, _, names in os.walk(folder):
        relative = os.path.relpath(where, folder).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        out += [prefix + name for name in names if name.endswith(".page")]
    return sorted(out, key=lambda name: name.split("/"))  # folder by folder, as the sitemap always listed them


def _take_over(folder: str, to: str, parents: set[str]) -> bool:
    """Move a page's folder from the spare site into this one; False when it cannot be (the spare has no such
    page, or this site already has the folder)."""
    parent = to.rstrip("/").rpartition("/")[0]
    if parent not in parents:
        os.makedirs(parent, exist_ok=True)
        parents.add(parent)
    try:
        os.rename(folder.rstrip("/"), to.rstrip("/"))
        return True
    except OSError:
        return False


def _unchanged(previous: Published | None, keys: dict[str, str], shells: dict[int, str]) -> set[str]:
    """The record pages whose published copy was made from the same key into the same shell."""
    if previous is None:
        return set()
    same_shell = {levels for levels, digest in shells.items() if previous.shells.get(levels) == digest}
    return {doc for doc, key in keys.items() if previous.keys.get(doc) == key and depth(doc) in same_shell}


def _link(old: str | Path, out: str | Path) -> bool:
    try:
        os.link(old, out)
        return True
    except OSError:  # gone from the published site, or a file system without hard links
        return False


def _put(out: str, data: bytes, address: str) -> None:
    """Write a filled page, or link the published site's copy of it when that is the same bytes."""
    state = _reuse[0] if _reuse else None
    if state is not None and state.previous is not None:
        old = state.previous.site / address / "index.html"
        try:
            if old.stat().st_size == len(data) and old.read_bytes() == data and _link(old, out):
                return
        except OSError:  # no such page yet: write it
            pass
    with suppress(FileNotFoundError):
        os.unlink(out)  # a new file, never a write into one the published or the spare site may share
    with open(out, "xb") as file:
        file.write(data)


def _put_inserts(docs: Path, site: Path) -> None:
    folder = docs / INSERTS
    if not folder.is_dir():
        return
    marker = insert_marker()
    for path in sorted(folder.rglob("*.html")):
        doc = path.relative_to(folder).as_posix().removesuffix(".html") + ".md"
        page = site / doc_url(doc) / "index.html"
        if not page.is_file():
            raise RuntimeError(f"{doc}: a heavy part was made for a page the build did not write")
        text = page.read_text(encoding="utf-8")
        if marker not in text:
            raise RuntimeError(f"{doc}: the page has no placeholder for its heavy part")
        page.unlink()  # a new file, never a write into one that may be linked from the published site
        page.write_text(text.replace(marker, path.read_text(encoding="utf-8"), 1), encoding="utf-8")


def _read_shells(site: Path, site_url: str) -> dict[int, tuple[str, str]]:
    """Built shell pages by depth, with the canonical address each carries (to be replaced)."""
    shells: dict[int, tuple[str, str]] = {}
    for path in (site / SHELLS).rglob("index.html") if (site / SHELLS).is_dir() else ():
        address = path.parent.relative_to(site).as_posix() + "/"
        shells[address.count("/")] = (_squeeze(path.read_text(encoding="utf-8")), site_url + address)
    return shells


_BLANKS = re.compile(r"[ \t]*\n\s*")


def _squeeze(text: str) -> str:
    """The theme's templates leave half of a page as indentation and blank lines: any run of white space that
    holds a line break becomes one line break (the same to HTML outside <pre>, and the shell has no <pre>)."""
    if "<pre" in text or "<textarea" in text:
        return text
    return _BLANKS.sub("\n", text)


def fill(shell: tuple[str, str], page: Page, site_url: str) -> str:
    text, shell_canonical = shell
    out = text.replace(HEAD, page.head).replace(TITLE, html.escape(page.title, quote=True))
    out = out.replace(DESCRIPTION, html.escape(page.description, quote=True))
    if site_url:
        out = out.replace(
            f'href="{shell_canonical}"', f'href="{html.escape(site_url + doc_url(page.doc), quote=True)}"'
        )
    if SHELLS + "/" in out:
        raise RuntimeError(f"{page.doc}: the shell's own address is still in the page")
    return out.replace(BODY, page.body)


_LOC = re.compile(r"<loc>(.*?)</loc>")


def write_sitemap(site: Path, site_url: str, extra: list[str]) -> None:
    """sitemap.xml (and .gz) listing every page: what mkdocs listed, less the shells, plus the filled pages."""
    sitemap = site / "sitemap.xml"
    listed = _LOC.findall(sitemap.read_text(encoding="utf-8")) if sitemap.is_file() else []
    addresses = [html.unescape(loc) for loc in listed if f"/{SHELLS}/" not in loc and loc != "None"]
    addresses += [site_url + address for address in extra]
    body = "".join(f"    <url>\n         <loc>{xml_escape(a)}</loc>\n    </url>\n" for a in dict.fromkeys(addresses))
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + body
        + "</urlset>\n"
    )
    sitemap.write_text(text, encoding="utf-8")
    (site / "sitemap.xml.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
