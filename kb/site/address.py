"""Where a generated page is served: the address of a Markdown page under directory URLs, and the way back
to the site root. Shared by the page context and the shells that pages are filled into."""

from __future__ import annotations

from functools import cache
from pathlib import PurePosixPath


@cache
def doc_url(doc: str) -> str:
    """The site-relative address of a Markdown page under directory URLs: papers/x.md -> papers/x/.
    (Plain string work, cached: pages of thousands of papers ask for hundreds of thousands of links.)"""
    if doc == "index.md":
        return ""
    if doc.endswith("/index.md"):
        return doc[: -len("index.md")]
    path = PurePosixPath(doc)
    return str(path.with_suffix("")) + "/"


@cache
def root_prefix(doc: str) -> str:
    """'../' repeated to climb from a page's address back to the site root."""
    return "../" * doc_url(doc).count("/")
