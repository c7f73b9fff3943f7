"""Paper identifiers: modern arXiv ids (2311.16922), old-style ones (hep-th/9901001) and slugs."""

from __future__ import annotations

import re

MODERN = re.compile(r"^(\d{2})(\d{2})\.(\d{4,5})$")
OLD_STYLE = re.compile(r"^([a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?)/(\d{2})(\d{2})(\d{3})$")
SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
VERSION = re.compile(r"v\d+$")
MAX_SLUG = 80


def arxiv_month(paper_id: str) -> tuple[int, int] | None:
    """(year, month) encoded in an arXiv id, or None for a slug."""
    if match := MODERN.match(paper_id):
        return 2000 + int(match.group(1)), int(match.group(2))
    if match := OLD_STYLE.match(paper_id):
        yy = int(match.group(2))
        return (1900 + yy if yy >= 91 else 2000 + yy), int(match.group(3))
    return None


def is_arxiv(paper_id: str) -> bool:
    return arxiv_month(paper_id) is not None


def check(paper_id: str) -> str:
    """Return the id unchanged or raise ValueError saying what a valid one looks like."""
    month = arxiv_month(paper_id)
    if month is not None:
        year, mm = month
        if not 1 <= mm <= 12:
            raise ValueError(f"'{paper_id}' has month {mm:02d}; an arXiv id starts with YYMM")
        match = MODERN.match(paper_id)
        if match and year >= 2015 and len(match.group(3)) != 5:
            raise ValueError(f"'{paper_id}': arXiv ids from 2015 on have five digits after the dot")
        if match and year < 2015 and len(match.group(3)) != 4:
            raise ValueError(f"'{paper_id}': arXiv ids before 2015 have four digits after the dot")
        return paper_id
    if VERSION.search(paper_id) and (
        MODERN.match(VERSION.sub("", paper_id)) or OLD_STYLE.match(VERSION.sub("", paper_id))
    ):
        raise ValueError(f"'{paper_id}' carries a version; use '{VERSION.sub('', paper_id)}'")
    if re.match(r"^\d", paper_id) or not SLUG.match(paper_id) or len(paper_id) > MAX_SLUG:
        raise ValueError(
            f"'{paper_id}' is neither an arXiv id (2311.16922, hep-th/9901001) "
            f"nor a lowercase slug (grad-cam-2017, at most {MAX_SLUG} characters)"
        )
    return paper_id


def normalise_arxiv(text: str) -> str:
    """'arXiv:2311.16922v2', 'https://arxiv.org/abs/2311.16922v2' -> '2311.16922'. Raises ValueError."""
    value = text.strip()
    value = re.sub(r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/", "", value, flags=re.I)
    value = re.sub(r"^arxiv:", "", value, flags=re.I).removesuffix(".pdf")
    value = VERSION.sub("", value)
    if not is_arxiv(value):
        raise ValueError(f"'{text}' is not an arXiv id (like 2311.16922 or hep-th/9901001)")
    return check(value)


def file_stem(paper_id: str) -> str:
    """The file name (without .yaml) that holds a record: old-style ids put '_' for the '/'."""
    return paper_id.replace("/", "_")
