"""Which papers' references were read from Semantic Scholar: curation/citations.json, written by `kb refs`.

A record's `cites` lists only citations inside the knowledge base, so an empty list can mean "cites none of
our papers" or "never asked". This log tells them apart: the site shows the citation section of a paper
only when its references were fetched (or it already cites records), instead of claiming zero. It is a
committed file beside the triage file, not a record field, so that a weekly `kb refs --all` changes one
reviewable file instead of touching hundreds of records; an entry's date changes only when its counts do.

One line per paper: `"<id>": {"checked": "YYYY-MM-DD", "references": N, "arxiv": N}` (how many references
Semantic Scholar listed, how many of them carry an arXiv id).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from kb import atomic
from kb.errors import KbError

LOG_FILE = "curation/citations.json"


@dataclass(frozen=True)
class Checked:
    checked: str
    references: int
    arxiv: int


def path_of(root: Path) -> Path:
    return root / LOG_FILE


def read(root: Path) -> dict[str, Checked]:
    """The log (empty when there is none). KbError names the file when it cannot be read."""
    path = path_of(root)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(k): Checked(str(v["checked"]), int(v["references"]), int(v["arxiv"])) for k, v in data["papers"].items()
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KbError(
            f"{LOG_FILE}: not a citation log ({exc}); fix it or delete it (`kb refs --all` rebuilds it)"
        ) from None


def record(log: dict[str, Checked], paper_id: str, references: int, arxiv: int, today: dt.date) -> None:
    """Note one fetch; the date moves only when the counts changed, so an unchanged week leaves no diff."""
    old = log.get(paper_id)
    if old is None or (old.references, old.arxiv) != (references, arxiv):
        log[paper_id] = Checked(today.isoformat(), references, arxiv)


def write(root: Path, log: dict[str, Checked]) -> None:
    lines = [
        f"  {json.dumps(pid)}: " + json.dumps({"checked": c.checked, "references": c.references, "arxiv": c.arxiv})
        for pid, c in sorted(log.items())
    ]
    note = (
        "written by `kb refs`: papers whose references were read from Semantic Scholar (how many it listed, how many "
        "with an arXiv id); the site shows citations only for these"
    )
    text = (
        '{\n "note": '
        + json.dumps(note)
        + ',\n "papers": {\n'
        + ",\n".join(lines)
        + ("\n" if lines else "")
        + " }\n}\n"
    )
    atomic.write_text(path_of(root), text)
