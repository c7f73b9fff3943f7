"""A bulk arXiv metadata file (JSON lines, gzip-compressed or not): what `kb discover` ranks and the
discovery model is trained on."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from kb.errors import KbError
from kb.identifier import normalise_arxiv


def read_bulk(path: Path) -> Iterator[tuple[str, str, str]]:
    """(arxiv id, title, abstract) per line of a JSON-lines file, gzip-compressed or not."""
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise KbError(f"{path}:{number}: not a JSON object ({exc})") from None
                if not isinstance(row, dict):
                    raise KbError(f"{path}:{number}: not a JSON object")
                for key in ("arxiv_id", "title"):
                    if not isinstance(row.get(key), str) or not row[key].strip():
                        raise KbError(f"{path}:{number}: field '{key}' is missing or not text")
                abstract = row.get("abstract")
                yield (
                    row["arxiv_id"].strip(),
                    " ".join(row["title"].split()),
                    abstract if isinstance(abstract, str) else "",
                )
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise KbError(f"{path}: cannot read it ({exc})") from None


def plain_id(arxiv_id: str) -> str:
    try:
        return normalise_arxiv(arxiv_id)
    except (KbError, ValueError):
        return arxiv_id
