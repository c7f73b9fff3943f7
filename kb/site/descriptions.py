"""A description for every page (search engines and link previews show it): record pages carry their own
(`kb.site.shell`), generated pages set one in their front matter, and a hand-written page without one gets
its first paragraph, as plain text. Runs as the mkdocs hook `on_page_markdown` (site/theme/hooks.py)."""

from __future__ import annotations

import re
from typing import Any

LIMIT = 160
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"[*_`#>|]|<[^>]+>")


def first_paragraph(markdown: str) -> str:
    fenced = False
    paragraph: list[str] = []
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        if not stripped:
            if paragraph:
                break
            continue
        if stripped.startswith(("#", "<", "|", "!!!", "???", "-", "*", "1.", "{")) and not paragraph:
            continue
        paragraph.append(stripped)
    return " ".join(paragraph)


def summary(text: str, limit: int = LIMIT) -> str:
    """Plain text of at most `limit` characters, cut at a word with an ellipsis."""
    plain = _MARKUP.sub("", _LINK.sub(r"\1", text))
    plain = re.sub(r"\s+", " ", plain).strip()
    if len(plain) <= limit:
        return plain
    return plain[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if not page.meta.get("description"):
        text = summary(first_paragraph(markdown))
        if text:
            page.meta["description"] = text
    return markdown
