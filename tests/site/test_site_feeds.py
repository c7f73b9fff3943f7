"""Feeds and What's new: dates from data (the `added` field, else git history, never the clock), Atom that a
real feed parser reads, and the alternate links in every built page."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest

from kb.entry_dates import added_by_git, entry_dates
from kb.loader import load
from kb.project import Project
from kb.site import feeds
from kb.site import markdown_safety as safe

DAYS = {"2305.10355.yaml": "2026-01-05", "2311.16922.yaml": "2026-02-10", "2410.04819.yaml": "2026-03-15"}


def _git(root: Path, *args: str, date: str | None = None) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "kb test",
        "GIT_AUTHOR_EMAIL": "kb@example.invalid",
        "GIT_COMMITTER_NAME": "kb test",
        "GIT_COMMITTER_EMAIL": "kb@example.invalid",
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{date}T12:00:00+00:00"
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


@pytest.fixture
def history(toy_root: Path) -> Path:
    """The toy knowledge base as a repository whose records were committed on different days."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    _git(toy_root, "init", "-q")
    _git(toy_root, "add", "taxonomy")
    _git(toy_root, "commit", "-qm", "taxonomy", date="2025-12-01")
    for name, day in DAYS.items():
        _git(toy_root, "add", f"papers/{name}")
        _git(toy_root, "commit", "-qm", f"add {name}", date=day)
    return toy_root  # 2412.02104 and toy-attention-probe stay uncommitted: their dates are unknown


def test_entry_dates_come_from_git_history_and_the_added_field(history: Path) -> None:
    assert added_by_git(history) == {f"papers/{n}": dt.date.fromisoformat(d) for n, d in DAYS.items()}
    probe = history / "papers" / "toy-attention-probe.yaml"
    probe.write_text(probe.read_text(encoding="utf-8") + "added: 2026-04-01\n", encoding="utf-8")
    kb = load(Project(history))
    dates = entry_dates(kb, history)
    assert dates == {
        "2305.10355": dt.date(2026, 1, 5),
        "2311.16922": dt.date(2026, 2, 10),
        "2410.04819": dt.date(2026, 3, 15),
        "toy-attention-probe": dt.date(2026, 4, 1),
    }  # the uncommitted survey record: unknown, not today


def test_no_history_means_unknown_dates(history: Path, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{history}", str(shallow)], check=True, capture_output=True
    )
    assert added_by_git(shallow) == {}  # a shallow clone's one commit would claim every file
    plain = tmp_path / "plain"
    shutil.copytree(history, plain, ignore=shutil.ignore_patterns(".git"))
    assert added_by_git(plain) == {}


def test_feeds_parse_and_list_the_newest_records_first(history: Path) -> None:
    kb = load(Project(history))
    out = feeds.files(kb, entry_dates(kb, history))
    parsed = feedparser.parse(out[feeds.FEED])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [e.title for e in parsed.entries] == [
        kb.records[i].title for i in ("2410.04819", "2311.16922", "2305.10355")
    ]
    first = parsed.entries[0]
    assert first.link == "papers/2410.04819/" and first.published.startswith("2026-03-15")
    assert parsed.feed.updated.startswith("2026-03-15")  # the newest entry, not the build's clock
    assert kb.records["2410.04819"].summary in first.summary and first.summary_detail.type == "text/plain"
    assert {t.term for t in first.tags} == set(kb.records["2410.04819"].taxonomy)
    assert len({e.id for e in parsed.entries}) == 3 and all(e.id.startswith("urn:uuid:") for e in parsed.entries)
    for root in kb.taxonomy.roots():
        per = feedparser.parse(out[feeds.PERSPECTIVE_FEED.format(root=root)])
        assert not per.bozo
        expected = {
            kb.records[i].title
            for i in ("2410.04819", "2311.16922", "2305.10355")
            if any(kb.taxonomy.perspective(a) == root for a in kb.records[i].taxonomy)
        }
        assert {e.title for e in per.entries} == expected
        if expected:
            assert per.entries[0].link.startswith("../papers/")
    page = out[feeds.WHATS_NEW].decode()
    assert page.index(safe.text(kb.records["2410.04819"].title)) < page.index(safe.text(kb.records["2305.10355"].title))
    assert "2 papers have no known date of entry" in page
    assert feeds.files(kb, entry_dates(kb, history)) == out  # the same data gives the same bytes


def test_record_text_stays_text_in_feeds(history: Path) -> None:
    probe = history / "papers" / "toy-attention-probe.yaml"
    title = "title: A Toy Probe of Attention in Vision-Language Models"
    text = probe.read_text(encoding="utf-8").replace(
        title, 'title: "<script>alert(1)</script> A Toy Probe of Attention"'
    )
    probe.write_text(text + "added: 2026-05-01\n", encoding="utf-8")
    kb = load(Project(history))
    out = feeds.files(kb, entry_dates(kb, history))
    assert b"<script>" not in out[feeds.FEED] and b"&lt;script&gt;" in out[feeds.FEED]
    assert "<script>" not in out[feeds.WHATS_NEW].decode()
    assert feedparser.parse(out[feeds.FEED]).entries[0].title == "<script>alert(1)</script> A Toy Probe of Attention"


def test_every_built_page_links_the_feeds(site_root: Path) -> None:
    built = site_root / "build" / "site"
    for page in ("index.html", "whats-new/index.html", "papers/2305.10355/index.html"):
        html = (built / page).read_text(encoding="utf-8")
        head = html[: html.index("</head>")]
        assert head.count('rel="alternate" type="application/atom+xml"') == 1 + 4, page
        depth = page.count("/")
        assert f'href="{"../" * depth}feed.xml"' in head
    parsed = feedparser.parse((built / "feed.xml").read_bytes())
    assert not parsed.bozo and parsed.feed.title.endswith("new papers")
