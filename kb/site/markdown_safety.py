"""Turning strangers' text into inert HTML for Markdown pages.

Records come from pull requests by anyone. Every record-derived string reaches a generated page
through `text()` (HTML-escaped, then written inside a raw HTML block, where Python-Markdown does not
parse Markdown, so `[x](javascript:...)`, `<script>` and `onerror=` stay visible text) and every link
through `url()`, which only ever lets http(s) through.
"""

from __future__ import annotations

import functools
import html
import json
import re
from urllib.parse import quote, urlsplit

_HTTP = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)
# HTML's own specials plus the characters that Markdown or mkdocs-material extensions (emoji,
# abbreviations, attr lists) could read as syntax if a string ever landed outside a raw HTML block.
# One pass over the text: escaping in two passes would re-escape the '#' and '&' of earlier entities.
_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "*": "&#42;",
    "_": "&#95;",
    "`": "&#96;",
    "[": "&#91;",
    "]": "&#93;",
    "{": "&#123;",
    "}": "&#125;",
    ":": "&#58;",
    "|": "&#124;",
    "\\": "&#92;",
    "~": "&#126;",
    "^": "&#94;",
    "=": "&#61;",
    "+": "&#43;",
    "!": "&#33;",
    "#": "&#35;",
}
_TABLE = str.maketrans(_ENTITIES)


def text(value: object) -> str:
    """Every HTML and Markdown special character as an entity: renders exactly as written."""
    value = value if isinstance(value, str) else str(value)
    return _escaped(value) if len(value) <= _REMEMBERED else value.translate(_TABLE)


# A site build escapes ~280 strings a paper page, most of them short repeats (names, model and method chips,
# neighbours' titles): remembering those saves translating them again (1.4 million calls for 5,000 papers).
# Long texts (summaries) rarely repeat and would only grow the build's peak memory.
_REMEMBERED = 160


@functools.lru_cache(maxsize=1 << 16)
def _escaped(value: str) -> str:
    return value.translate(_TABLE)


def attr(value: object) -> str:
    """A value for inside a double-quoted HTML attribute."""
    return text(value)


def url(value: str | None) -> str | None:
    """The link escaped for an href when it is http(s); None for anything else (javascript:, data:...)."""
    if not value:
        return None
    candidate = value.strip()
    if not _HTTP.match(candidate):
        return None
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return html.escape(candidate, quote=True)


def link(href: str | None, label: object, *, external: bool = True) -> str:
    """An anchor to an http(s) address, or just the escaped label when the address is not http(s)."""
    safe = url(href)
    if safe is None:
        return text(label)
    rel = ' rel="noopener noreferrer nofollow" target="_blank"' if external else ""
    return f'<a href="{safe}"{rel}>{text(label)}</a>'


def doi_url(doi: str) -> str:
    return "https://doi.org/" + quote(doi, safe="/")


def front_matter_title(value: str) -> str:
    """A page title for YAML front matter: themes put it in <title> and the tab, so drop markup characters."""
    plain = re.sub(r"[<>&\"'`\\{}\[\]]", " ", value)
    plain = re.sub(r"\s+", " ", plain).strip() or "Untitled"
    return json.dumps(plain, ensure_ascii=False)


def script_json(data: object) -> str:
    """JSON that is safe inside a <script type="application/json"> element."""
    return (
        json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
