"""Atom feeds of the papers new to the knowledge base, overall and per top-level perspective, and the
What's-new page.

When a paper entered comes from data (`kb.entry_dates`: the record's `added` field, else git history), never
from the build clock: a rebuild changes nothing, and a paper whose date is unknown is left out rather than
announced as new. Feeds are written with the standard library's ElementTree (every text escaped by it); an
entry carries the title, the link to the paper's page, its areas as categories and our summary as plain text
(type="text": a feed reader shows it as text, nothing a contributor wrote becomes markup).

This module is also a mkdocs hook (`on_post_page`, registered by `kb.site.build`): every page gets a
`<link rel="alternate" type="application/atom+xml">` per feed in its head, so browsers and feed readers
find them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb.knowledge_base import KnowledgeBase
from kb.records import Record
from kb.site import markdown_safety as safe
from kb.site.address import doc_url
from kb.site.context import paper_doc

FEED = "feed.xml"
PERSPECTIVE_FEED = "feeds/{root}.xml"
WHATS_NEW = "whats-new.md"
LINKS_FILE = "assets/kb/feeds.json"  # which feeds exist, for the hook
FEED_SIZE = 50
PAGE_SIZE = 200
ATOM = "http://www.w3.org/2005/Atom"
SITE_NAME = "MLLM Explainability Knowledge Base"
# A fixed namespace: ids stay the same across builds and machines (RFC 4287 wants permanent ids).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://arxiv.org/abs/2412.02104#kb")


def files(kb: KnowledgeBase, dates: dict[str, dt.date]) -> dict[str, bytes]:
    """The overall feed, one feed per top-level perspective, the What's-new page and the hook's feed list."""
    dated = sorted((r for r in kb if r.id in dates), key=lambda r: (dates[r.id], r.id), reverse=True)
    out: dict[str, bytes] = {}
    links = [{"href": FEED, "title": f"{SITE_NAME}: new papers"}]
    out[FEED] = atom(kb, dated[:FEED_SIZE], dates, "new papers", FEED, "all")
    for root in kb.taxonomy.roots():
        name = kb.taxonomy.areas[root].name
        mine = [r for r in dated if any(kb.taxonomy.perspective(a) == root for a in r.taxonomy)]
        href = PERSPECTIVE_FEED.format(root=root)
        out[href] = atom(kb, mine[:FEED_SIZE], dates, f"new papers in {name}", href, root)
        links.append({"href": href, "title": f"{SITE_NAME}: new papers in {name}"})
    out[WHATS_NEW] = whats_new(kb, dated[:PAGE_SIZE], dates, links, unknown=len(kb) - len(dated)).encode()
    out[LINKS_FILE] = json.dumps(links, ensure_ascii=False).encode()
    return out


def atom(
    kb: KnowledgeBase, records: Sequence[Record], dates: dict[str, dt.date], what: str, href: str, key: str
) -> bytes:
    """One Atom 1.0 feed. Links are relative: a reader resolves them against the feed's own address."""
    ET.register_namespace("", ATOM)
    up = "../" * href.count("/")
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, "title", f"{SITE_NAME}: {what}")
    _add(feed, "subtitle", "Papers as they enter the knowledge base of MLLM explainability research")
    _add(feed, "id", f"urn:uuid:{uuid.uuid5(NAMESPACE, 'feed:' + key)}")
    _add(feed, "updated", _stamp(_updated(kb, records, dates)))
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml", href=href.rsplit("/", 1)[-1])
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=up + doc_url(WHATS_NEW))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _add(author, "name", f"{SITE_NAME} contributors")
    _add(feed, "generator", "kb (mllm-xai-kb)")
    for record in records:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _add(entry, "title", record.title)
        _add(entry, "id", f"urn:uuid:{uuid.uuid5(NAMESPACE, 'paper:' + record.id)}")
        when = _stamp(dates[record.id])
        _add(entry, "published", when)
        _add(entry, "updated", when)
        ET.SubElement(
            entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=up + doc_url(paper_doc(record.id))
        )
        if record.arxiv_url:
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", type="text/html", href=record.arxiv_url)
        for area in record.taxonomy:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=area, label=kb.taxonomy.path_name(area))
        authors = ", ".join(record.authors) if record.authors else "authors unknown"
        _add(entry, "summary", f"{authors} ({record.year}). {record.summary}", type="text")
    ET.indent(feed, space=" ")
    body: bytes = ET.tostring(feed, encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"


def _add(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = text
    return element


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _updated(kb: KnowledgeBase, records: Sequence[Record], dates: dict[str, dt.date]) -> dt.date:
    """The newest entry's date; a feed with no dated entry takes the newest date of first posting (data too)."""
    if records:
        return max(dates[r.id] for r in records)
    posted = [r.published or dt.date(r.year, 1, 1) for r in kb]
    return max(posted) if posted else dt.date(1970, 1, 1)


def whats_new(
    kb: KnowledgeBase, records: Sequence[Record], dates: dict[str, dt.date], links: list[dict[str, str]], unknown: int
) -> str:
    doc = WHATS_NEW
    up = "../" * doc_url(doc).count("/")
    feeds = " · ".join(
        f'<a href="{up}{safe.attr(link["href"])}"'
        f' type="application/atom+xml">{safe.text(link["title"].split(": ", 1)[1])}</a>'
        for link in links
    )
    parts = [
        "<h1>What's new</h1>",
        f'<p class="kb-feeds">Atom feeds: {feeds}.</p>',
        (
            f"<p>The {len(records)} papers that entered the knowledge base most recently, newest first, by the date "
            "they entered (the record's <code>added</code> date, or the day its file was committed).</p>"
        ),
    ]
    month = None
    for record in records:
        day = dates[record.id]
        if (day.year, day.month) != month:
            if month is not None:
                parts.append("</ul>")
            month = (day.year, day.month)
            parts.append(f'<h2>{day:%B %Y}</h2><ul class="kb-whats-new">')
        areas = ", ".join(kb.taxonomy.path_name(a) for a in record.taxonomy)
        parts.append(
            f'<li><time datetime="{day.isoformat()}">{day.isoformat()}</time> <a'
            f' href="{up}{doc_url(paper_doc(record.id))}"'
            f' data-paper-id="{safe.attr(record.id)}">{safe.text(record.title)}</a> <span'
            f' class="kb-year">({record.year})</span> <span class="kb-areas">{safe.text(areas)}</span></li>'
        )
    if month is not None:
        parts.append("</ul>")
    if unknown:
        parts.append(f"<p><em>{unknown} papers have no known date of entry and are not listed.</em></p>")
    return '---\ntitle: What\'s new\n---\n\n<div class="kb-whats-new-page">\n' + "\n".join(parts) + "\n</div>\n"


# -- the mkdocs hook --------------------------------------------------------------------------------------

HOOK = Path(__file__)
_feed_lists: dict[str, list[dict[str, str]]] = {}


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Put one alternate link per feed into the page's head (relative to the page's address)."""
    docs = str(config["docs_dir"])
    if docs not in _feed_lists:
        try:
            _feed_lists[docs] = json.loads((Path(docs) / LINKS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            _feed_lists[docs] = []
    feeds = _feed_lists[docs]
    at = output.find("</head>")
    if not feeds or at < 0:
        return output
    up = "../" * (page.url or "").count("/")
    tags = "".join(
        f'<link rel="alternate" type="application/atom+xml" title="{safe.attr(f["title"])}"'
        f' href="{up}{safe.attr(f["href"])}">'
        for f in feeds
    )
    return output[:at] + tags + UNLISTED + output[at:]


# mkdocs-material takes every `link[rel=alternate]` for a page in another language and fetches the
# sitemap.xml beside it on every page view: the site's own (450 KiB at 1,100 papers, 4,835 pages) for
# feed.xml, a 404 for each feed under feeds/. Feed readers read the HTML as written; in the live page the
# links become rel="alternate feed" before the theme looks (it matches the whole value), which keeps
# the `alternate` token that tools reading the page's links look for.
UNLISTED = (
    "<script>document.querySelectorAll('link[rel=alternate][type=\"application/atom+xml\"]')"
    '.forEach(function (link) { link.rel = "alternate feed"; });</script>'
)
