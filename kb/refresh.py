"""What arXiv's current facts change in a reviewed record: only what arXiv states and the record lacks.

- unknown authors (an empty or missing list) are filled;
- a changed title becomes the title, and the old one an alias (searches for it still find the paper);
- a missing venue is proposed from arXiv's journal reference, a missing DOI link from arXiv's DOI;
- a missing date of first posting is filled.
Nothing a person wrote (summary, findings, note, classification) is touched, and a fact the record already
states is never replaced: where arXiv disagrees (other authors, another year), that is reported for a person
to check, not written. Every source used is added to `sources`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb.arxiv_api import ArxivPaper
from kb.records import DOI, normalised_title

MAX_VENUE = 200


@dataclass
class Refresh:
    changes: dict[str, Any] = field(default_factory=dict)  # top-level key -> new value
    notes: list[str] = field(default_factory=list)  # disagreements left for a person


def refresh(data: dict[str, Any], paper: ArxivPaper) -> Refresh:
    out = Refresh()
    title = data.get("title")
    # Case, punctuation and spacing are not a new title (arXiv's and a venue's typesetting differ).
    if isinstance(title, str) and normalised_title(title) != normalised_title(paper.title):
        out.changes["title"] = paper.title
        aliases = [a for a in data.get("aliases") or [] if isinstance(a, str) and a != paper.title]
        if title not in aliases:
            aliases.append(title)
        out.changes["aliases"] = aliases
    authors = data.get("authors")
    if not authors and paper.authors:
        out.changes["authors"] = list(paper.authors)
    elif isinstance(authors, list) and paper.authors and authors != paper.authors:
        out.notes.append(
            f"arXiv lists {len(paper.authors)} authors ({_names(paper.authors)}), the record "
            f"{len(authors)} ({_names(authors)}); left as it is"
        )
    if not data.get("published"):
        out.changes["published"] = paper.published.isoformat()
    year = data.get("year")
    if isinstance(year, int) and year != paper.published.year:
        out.notes.append(
            f"arXiv's first version is from {paper.published.isoformat()}, the record says {year}; left as it is"
        )
    if not data.get("venue") and paper.journal_ref and len(paper.journal_ref) <= MAX_VENUE:
        out.changes["venue"] = paper.journal_ref
    stated = data.get("links")
    links: dict[str, Any] = stated if isinstance(stated, dict) else {}
    if paper.doi and DOI.match(paper.doi) and not links.get("doi"):
        out.changes["links"] = {**links, "doi": paper.doi}
    if out.changes:
        sources = [s for s in data.get("sources") or [] if isinstance(s, str)]
        if paper.url not in sources:
            out.changes["sources"] = [*sources, paper.url]
    return out


def _names(names: list[str], shown: int = 3) -> str:
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")
