"""The keys of record pages (kb.site.page_cache) are sound: whenever an edit changes what a page shows, it
changes the page's key. Every paper, tag, venue and author page of the toy knowledge base is rendered before
and after each edit, with the nearest papers set by hand so that not every paper is every other's neighbour."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kb import graph as kb_graph
from kb.knowledge_base import KnowledgeBase
from kb.loader import load
from kb.project import Project
from kb.records import Lineage
from kb.site import paper_page, tag_pages
from kb.site.context import SiteContext, paper_doc
from kb.site.page_cache import PageCache, PageKeys, RowCache
from kb.site.settings import Settings
from tests.conftest import TOY

RELATED = {"2305.10355": [("2311.16922", 0.9)], "2311.16922": [("2305.10355", 0.9)]}


def _pages(
    kb: KnowledgeBase, related: dict[str, list[tuple[str, float]]], rows: Path | None = None
) -> dict[str, tuple[str, str]]:
    """Every record page of `kb`: doc -> (key, rendered page). With `rows`, fragments are kept in a RowCache
    there (read before, saved after)."""
    ctx = SiteContext(kb=kb, graph=kb_graph.build(kb), settings=Settings(repo_url="https://example.org/r"))
    ctx.related = related
    keys = PageKeys(ctx)
    kept = RowCache(rows, keys) if rows is not None else None
    if kept is not None:
        ctx.rows = kept
    out = _render(ctx, keys)
    if kept is not None:
        kept.save()
    return out


def _render(ctx: SiteContext, keys: PageKeys) -> dict[str, tuple[str, str]]:
    kb = ctx.kb
    out = {}
    for record in kb:
        doc = paper_doc(record.id)
        out[doc] = (keys.paper(doc, record), repr(paper_page.render(ctx, record)))
    for listing in tag_pages.listings(ctx):
        out[listing.doc] = (keys.listing(listing.doc, listing.kind, listing.name, listing.records), repr(listing.make()))
    return out


def _edited(kb: KnowledgeBase, paper_id: str, **update: Any) -> KnowledgeBase:
    records = dict(kb.records)
    records[paper_id] = records[paper_id].model_copy(update=update)
    return KnowledgeBase(taxonomy=kb.taxonomy, records=records, files=kb.files)


@pytest.fixture(scope="module")
def toy() -> KnowledgeBase:
    return load(Project(TOY))


EDITS: dict[str, Callable[[KnowledgeBase], tuple[KnowledgeBase, dict[str, list[tuple[str, float]]]]]] = {
    # Seen on the pages of the paper that cites it, and of its nearest paper.
    "a cited paper's title": lambda kb: (_edited(kb, "2305.10355", title="Another Title Altogether"), RELATED),
    # Seen on the page of the paper it cites.
    "a citing paper's year": lambda kb: (_edited(kb, "toy-attention-probe", year=2021), RELATED),
    "a built-on paper's note": lambda kb: (
        _edited(
            kb,
            "toy-attention-probe",
            builds_on=[e.model_copy(update={"note": "another note"}) for e in kb.records["toy-attention-probe"].builds_on],
        ),
        RELATED,
    ),
    "an author joins another paper": lambda kb: (
        _edited(kb, "2410.04819", authors=["Ada Example", *kb.records["2410.04819"].authors]),
        RELATED,
    ),
    # A new name that makes the same address as an existing one and sorts first: the existing one is renumbered.
    "an author with the same address": lambda kb: (
        _edited(kb, "2305.10355", authors=["ADA EXAMPLE", *kb.records["2305.10355"].authors]),
        RELATED,
    ),
    "a venue with the same address": lambda kb: (_edited(kb, "2410.04819", venue="TOY WORKSHOP 2023"), RELATED),
    "a venue moves": lambda kb: (_edited(kb, "2311.16922", venue="ICCV 2023"), RELATED),
    "a tag is added": lambda kb: (_edited(kb, "2410.04819", modalities=["image", "text", "video"]), RELATED),
    "the nearest papers change": lambda kb: (kb, {**RELATED, "2410.04819": [("2412.02104", 0.8)]}),
    "a lineage edge is added": lambda kb: (
        _edited(kb, "2412.02104", builds_on=[Lineage.model_construct(id="2410.04819", relation="extends", note=None)]),
        RELATED,
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_that_changes_a_page_changes_its_key(toy: KnowledgeBase, edit: str) -> None:
    before = _pages(toy, RELATED)
    after = _pages(*EDITS[edit](toy))
    changed = [doc for doc in before.keys() & after.keys() if before[doc][1] != after[doc][1]]
    assert changed, "the edit must change some page, or it tests nothing"
    stale = [doc for doc in changed if before[doc][0] == after[doc][0]]
    assert stale == []
    # And the key is not a hash of everything: an edit leaves most pages' keys alone.
    kept = [doc for doc in before.keys() & after.keys() if before[doc][0] == after[doc][0]]
    assert len(kept) >= len(before) // 3


def test_keys_are_forgotten_while_a_build_runs(tmp_path: Any) -> None:
    """A build killed midway leaves no keys: the next one makes every page."""
    cache = PageCache(tmp_path)
    assert not cache.fresh("papers/a.md", "k1")
    cache.save()
    again = PageCache(tmp_path)
    assert not (tmp_path / "keys.json").exists()  # gone until this build has written its pages
    assert again.fresh("papers/a.md", "k1") and not again.fresh("papers/b.md", "k2")
    assert not PageCache(tmp_path).fresh("papers/a.md", "k1")  # the second build was never saved


@pytest.mark.parametrize("edit", EDITS)
def test_kept_rows_make_the_pages_a_fresh_render_makes(toy: KnowledgeBase, edit: str, tmp_path: Path) -> None:
    """Table rows, list items and links kept between builds (RowCache) are used only while the record they
    show looks the same: after each edit, pages made with the kept rows are those made from nothing."""
    _pages(toy, RELATED, rows=tmp_path)
    assert (tmp_path / "rows.json").is_file()
    kb, related = EDITS[edit](toy)
    kept = _pages(kb, related, rows=tmp_path)
    fresh = _pages(kb, related)
    assert [doc for doc in fresh if kept[doc] != fresh[doc]] == []
