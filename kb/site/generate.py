"""Generate the mkdocs source folder (`.site-src/`, git-ignored) from the records and `site/`.

Hand-written pages and assets are copied from `site/` (not `site/theme/`, the theme overrides and hooks that
mkdocs.yml names), with `{{ repo_url }}` replaced by mkdocs.yml's `repo_url`; generated pages are written next
to them. Pages made from records (papers, tags, venues, authors) go to `.site-src/.pages/` as JSON for the
shell hook (`kb.site.shell`), streamed to disk as they are made, so memory does not grow with the corpus.
Files are only rewritten when their content changes, so `kb site serve` reloads just what changed.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb import atomic, statistics
from kb import export as exporting
from kb import graph as kb_graph
from kb.knowledge_base import KnowledgeBase
from kb.project import Project
from kb.site import (
    area_pages,
    feature_pages,
    map_page,
    paper_page,
    settings,
    shell,
    tag_pages,
)
from kb.site.address import doc_url
from kb.site.context import SiteContext, area_doc, method_doc, paper_doc
from kb.site.page_cache import PageCache, PageKeys, RowCache

DOCS_DIR = ".site-src"
# Pages other engineers write; a placeholder stands in until they exist, so the nav always resolves.
OWNED_ELSEWHERE = {
    "architecture.md": "Architecture",
    "curation.md": "Curation",
    "search.md": "Search",
    "contributing.md": "Contributing",
    "methods.md": "Explainability methods",
}
HOME_INTRO = """# Explainable and interpretable multimodal LLMs

The living, searchable version of the survey *Explainable and Interpretable Multimodal Large Language Models:
A Comprehensive Survey* (Dang et al., [arXiv 2412.02104](https://arxiv.org/abs/2412.02104)): every paper is a
reviewed record placed in the survey's framework of **data**, **model** and **training & inference** perspectives.
"""
RELATED_K = 6
THEME = "theme/"  # site/theme/: mkdocs.yml's custom_dir and hooks, not pages
REPO_URL = b"{{ repo_url }}"


@dataclass
class Generated:
    docs_dir: Path
    pages: int = 0
    written: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    search_sizes: dict[str, int] = field(default_factory=dict)
    peaks: dict[str, int] = field(default_factory=dict)  # the process's peak resident MiB after each step
    notes: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # each record page's key (kb.site.page_cache), by doc


def generate(
    project: Project, kb: KnowledgeBase, *, xai: bool = True, before_index: Callable[[], None] | None = None
) -> Generated:
    docs = project.root / DOCS_DIR
    out = Generated(docs)
    files: dict[str, bytes] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        out.timings[name] = round(now - clock, 3)
        out.peaks[name] = _peak_mib()
        clock = now

    site_settings = settings.read(project.root)
    # Hand-written pages and assets first; generated pages may not overwrite them silently.
    site_dir = project.root / "site"
    if site_dir.is_dir():
        for path in sorted(site_dir.rglob("*")):
            name = path.relative_to(site_dir).as_posix()
            if path.is_file() and not name.startswith(THEME) and "__pycache__" not in name:
                data = path.read_bytes()
                files[name] = data.replace(REPO_URL, site_settings.repo_url.encode()) if name.endswith(".md") else data
    for name, title in OWNED_ELSEWHERE.items():
        files.setdefault(name, f"# {title}\n\nThis page is being written.\n".encode())
    lap("copy")

    graph = kb_graph.build(kb)
    from kb import citation_log

    # Papers whose references were read (or that cite records already): the others get no citation counts.
    fetched = set(citation_log.read(project.root)) | {r.id for r in kb if r.cites}
    ctx = SiteContext(kb=kb, graph=graph, settings=site_settings, citations_fetched=fetched)
    url_of = {r.id: doc_url(paper_doc(r.id)) for r in kb}
    pages = _PageWriter(docs)

    if xai:
        _xai(project, ctx, files, out)
    lap("xai")

    # Only pages whose inputs changed since the last build are made (kb.site.page_cache). Pages that need no
    # search index come first: `before_index` may be waiting for texts embedded meanwhile (kb.site.build).
    cache = PageCache(docs / shell.PAGES)
    keys = PageKeys(ctx)
    rows = RowCache(docs / shell.PAGES, keys)
    ctx.rows = rows
    for listing in tag_pages.listings(ctx):
        key = keys.listing(listing.doc, listing.kind, listing.name, listing.records)
        if not (cache.fresh(listing.doc, key) and pages.keep(listing.doc)):
            pages.put(listing.make())
    files[tag_pages.TAGS_INDEX] = tag_pages.tags_index(ctx).encode()
    files[tag_pages.AUTHORS_INDEX] = tag_pages.authors_index(ctx).encode()
    files[tag_pages.VENUES_INDEX] = tag_pages.venues_index(ctx).encode()
    files[tag_pages.COVERAGE] = tag_pages.coverage_page(ctx).encode()
    lap("tag pages")
    for area_id in kb.taxonomy.areas:
        files[area_doc(area_id)] = area_pages.area_page(ctx, area_id).encode()
    files[area_pages.AREAS_INDEX] = area_pages.areas_index(ctx).encode()
    files["index.md"] = area_pages.home(ctx, HOME_INTRO).encode()
    lap("area pages")
    _features(project, ctx, files, url_of)
    lap("feature pages")

    from threadpoolctl import threadpool_limits

    from kb.artefacts import Inputs
    from kb.search.related import related_all
    from kb.search.store import ensure_index
    from kb.site import projection, search_assets

    if before_index is not None:
        before_index()
    index = ensure_index(Inputs(project, kb), progress=True)
    lap("search index")
    # One BLAS/OpenMP thread for the small matrix work below: on this 2-core machine, shared with other jobs,
    # two threads spin against each other (a 384 x 384 eigendecomposition took 3.6 s instead of 0.07 s).
    with threadpool_limits(1):
        assets = search_assets.build(index, kb, url_of)
        out.search_sizes = assets.sizes
        files.update({f"assets/kb/search/{name}": data for name, data in assets.files.items()})
        lap("search assets")
        ctx.related = related_all(index, RELATED_K)
        lap("related")
        ctx.positions = projection.positions(Inputs(project, kb), index)
    files[map_page.DOC] = map_page.page(ctx).encode()
    lap("map")

    for record in kb:
        doc = paper_doc(record.id)
        if not (cache.fresh(doc, keys.paper(doc, record)) and pages.keep(doc)):
            pages.put(paper_page.render(ctx, record))
    lap("paper pages")
    for levels in sorted(pages.depths):
        files[shell.shell_doc(levels)] = shell.shell_markdown().encode()

    for doc, heavy in ctx.inserts.items():
        pages.put_file(shell.insert_file(doc), heavy.encode())
    out.pages = sum(1 for name in files if name.endswith(".md") and not name.startswith(shell.SHELLS)) + pages.count
    out.written = _sync(docs, files, keep=pages.wanted | {rows.name}) + pages.written
    cache.save()
    rows.save()
    out.keys = cache.keys
    lap("write")
    return out


def _features(project: Project, ctx: SiteContext, files: dict[str, bytes], url_of: dict[str, str]) -> None:
    """The graph, statistics, downloads, feeds and search pages (the map page needs the index: not here)."""
    kb = ctx.kb
    elements = kb_graph.cytoscape_elements(ctx.graph, url_of)
    files["assets/kb/graph.json"] = json.dumps(
        {"elements": elements, "perspectives": kb.taxonomy.roots()}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    files["graph.md"] = feature_pages.graph_page(ctx).encode()
    files["statistics.md"] = feature_pages.statistics_page(ctx, statistics.compute(kb)).encode()
    sizes = {}
    for fmt, ext in exporting.FORMATS.items():
        data = exporting.export(kb, fmt).encode()
        files[f"downloads/kb.{ext}"] = data
        sizes[fmt] = len(data)
    files["downloads.md"] = feature_pages.downloads_page(ctx, sizes).encode()
    from kb.entry_dates import entry_dates
    from kb.site import feeds

    files.update(feeds.files(kb, entry_dates(kb, project.root)))
    hand_search = files.get("search.md")
    files["search.md"] = feature_pages.search_page(hand_search.decode() if hand_search else None).encode()


def _peak_mib() -> int:
    try:
        import resource
    except ImportError:  # not on Windows
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


class _PageWriter:
    """Record pages written to `.site-src/.pages/` as they are made (only when their content changed)."""

    def __init__(self, docs: Path) -> None:
        self.docs = docs
        self.wanted: set[str] = set()  # file names relative to the docs folder
        self.depths: set[int] = set()
        self.count = 0
        self.written = 0

    def put(self, page: shell.Page) -> None:
        self.depths.add(shell.depth(page.doc))
        self.count += 1
        self.put_file(shell.page_file(page.doc), page.to_bytes())

    def keep(self, doc: str) -> bool:
        """Keep the page file of `doc` from the last build as it is; False when it is not there."""
        name = shell.page_file(doc)
        if not os.path.isfile(os.path.join(self.docs, name)):
            return False
        self.wanted.add(name)
        self.depths.add(shell.depth(doc))
        self.count += 1
        return True

    def put_file(self, name: str, data: bytes) -> None:
        # Written in place, not through a temporary file and a rename: these are intermediate files that the
        # next build compares byte for byte (a torn one is written again), and on this machine's file system
        # a rename costs ~1.5 ms, 15 s for 10,000 pages.
        path = self.docs / name
        self.wanted.add(name)
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written += 1


def _xai(project: Project, ctx: SiteContext, files: dict[str, bytes], out: Generated) -> None:
    """Method pages from kb.xai when that package provides its catalog and benchmark."""
    try:
        catalog = importlib.import_module("kb.xai.catalog")
    except ImportError:
        out.notes.append("xai: kb.xai.catalog not available; no method pages")
        return
    ctx.methods = {m.name: m for m in getattr(catalog, "METHODS", [])}
    try:  # committed results (kb xai bench --write): the site build trains nothing
        benchmark = importlib.import_module("kb.xai.benchmark")
        ctx.bench = benchmark.read() or {}
        figures = benchmark.RESULTS / "figures"
    except ImportError:
        out.notes.append("xai: kb.xai.benchmark not available; method pages without results")
        figures = project.build_dir / "xai" / "figures"
    for name in ctx.methods:
        figure = figures / f"{name}.png"
        if figure.is_file():
            files[f"assets/xai/{name}.png"] = figure.read_bytes()
        files[method_doc(name)] = feature_pages.method_page(ctx, name, figure.is_file()).encode()
    files["methods.md"] = (
        files.get("methods.md", b"# Explainability methods\n").rstrip() + feature_pages.methods_table(ctx).encode()
    )


def _sync(folder: Path, files: dict[str, bytes], keep: set[str] = frozenset()) -> int:  # type: ignore[assignment]
    """Make `folder` hold exactly `files` (and the files named in `keep`, written already), rewriting only
    what changed (atomically, file by file)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, data in files.items():
        path = folder / name
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            continue
        atomic.write_bytes(path, data)
        written += 1
    # Plain strings, not Paths: the folder holds a file per record page (10,000 at 5,000 papers).
    wanted = set(files) | keep
    for where, _, names in os.walk(folder, topdown=False):
        relative = os.path.relpath(where, folder).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        for name in names:
            if prefix + name not in wanted:
                os.unlink(os.path.join(where, name))
        if prefix and not os.listdir(where):
            os.rmdir(where)
    return written
