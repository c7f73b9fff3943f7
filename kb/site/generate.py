"""Generate the mkdocs source folder (`.site-src/`, git-ignored) from the records and `site/`.

Hand-written pages and assets are copied from `site/`; generated pages are written next to them.
Files are only rewritten when their content changes, so `kb site serve` reloads just what changed.
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from kb import atomic
from kb import export as exporting
from kb import graph as kb_graph
from kb import statistics
from kb.knowledge_base import KnowledgeBase
from kb.project import Project
from kb.site import area_pages, feature_pages, paper_page
from kb.site.context import SiteContext, area_doc, doc_url, method_doc, paper_doc

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


@dataclass
class Generated:
    docs_dir: Path
    pages: int = 0
    written: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    search_sizes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def generate(project: Project, kb: KnowledgeBase, *, xai: bool = True) -> Generated:
    docs = project.root / DOCS_DIR
    out = Generated(docs)
    files: dict[str, bytes] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        out.timings[name] = round(now - clock, 3)
        clock = now

    # Hand-written pages and assets first; generated pages may not overwrite them silently.
    site_dir = project.root / "site"
    if site_dir.is_dir():
        for path in sorted(site_dir.rglob("*")):
            if path.is_file():
                files[path.relative_to(site_dir).as_posix()] = path.read_bytes()
    for name, title in OWNED_ELSEWHERE.items():
        files.setdefault(name, f"# {title}\n\nThis page is being written.\n".encode())
    lap("copy")

    graph = kb_graph.build(kb)
    from kb import citation_log

    # Papers whose references were read (or that cite records already): the others get no citation counts.
    fetched = set(citation_log.read(project.root)) | {r.id for r in kb if r.cites}
    ctx = SiteContext(kb=kb, graph=graph, citations_fetched=fetched)
    url_of = {r.id: doc_url(paper_doc(r.id)) for r in kb}

    from kb.artefacts import Inputs
    from kb.search.related import related_all
    from kb.search.store import ensure_index
    from kb.site import search_assets

    index = ensure_index(Inputs(project, kb), progress=True)
    assets = search_assets.build(index, kb, url_of)
    out.search_sizes = assets.sizes
    files.update({f"assets/kb/search/{name}": data for name, data in assets.files.items()})
    lap("search assets")

    ctx.related = related_all(index, RELATED_K)
    lap("related")
    if xai:
        _xai(project, ctx, files, out)
    lap("xai")

    for record in kb:
        files[paper_doc(record.id)] = paper_page.render(ctx, record).encode()
    lap("paper pages")
    for area_id in kb.taxonomy.areas:
        files[area_doc(area_id)] = area_pages.area_page(ctx, area_id).encode()
    files[area_pages.AREAS_INDEX] = area_pages.areas_index(ctx).encode()
    files["index.md"] = area_pages.home(ctx, HOME_INTRO).encode()
    lap("area pages")

    elements = kb_graph.cytoscape_elements(graph, url_of)
    files["assets/kb/graph.json"] = json.dumps({"elements": elements, "perspectives": kb.taxonomy.roots()}, ensure_ascii=False, separators=(",", ":")).encode()
    files["graph.md"] = feature_pages.graph_page(ctx).encode()
    files["statistics.md"] = feature_pages.statistics_page(ctx, statistics.compute(kb)).encode()
    files["assets/vendor/plotly/plotly.min.js"] = _plotly_js()
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
    lap("feature pages")

    out.pages = sum(1 for name in files if name.endswith(".md"))
    out.written = _sync(docs, files)
    lap("write")
    return out


def _xai(project: Project, ctx: SiteContext, files: dict[str, bytes], out: Generated) -> None:
    """Method pages from kb.xai when that package provides its catalog and benchmark."""
    try:
        catalog = importlib.import_module("kb.xai.catalog")
    except ImportError:
        out.notes.append("xai: kb.xai.catalog not available; no method pages")
        return
    ctx.methods = {m.name: m for m in getattr(catalog, "METHODS", [])}
    try:
        benchmark = importlib.import_module("kb.xai.benchmark")
        ctx.bench = benchmark.ensure_results(project) or {}
    except ImportError:
        out.notes.append("xai: kb.xai.benchmark not available; method pages without results")
    figures = project.build_dir / "xai" / "figures"
    for name in ctx.methods:
        figure = figures / f"{name}.png"
        if figure.is_file():
            files[f"assets/xai/{name}.png"] = figure.read_bytes()
        files[method_doc(name)] = feature_pages.method_page(ctx, name, figure.is_file()).encode()
    files["methods.md"] = files.get("methods.md", b"# Explainability methods\n").rstrip() + feature_pages.methods_table(ctx).encode()


def _plotly_js() -> bytes:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


def _sync(folder: Path, files: dict[str, bytes]) -> int:
    """Make `folder` hold exactly `files`, rewriting only what changed (atomically, file by file)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, data in files.items():
        path = folder / name
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            continue
        atomic.write_bytes(path, data)
        written += 1
    wanted = {folder / name for name in files}
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return written
