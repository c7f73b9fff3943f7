"""Finding papers that belong in the knowledge base in a bulk arXiv metadata file.

Every paper (title + abstract) is encoded with the static model (no torch; thousands a second). Its score
mixes two signals, both computed against the records:
- topicality: similarity to the direction that separates the records from the bulk file as a whole
  (mean record vector minus mean bulk vector, a Rocchio classifier), rescaled to [0, 1] over the file;
- neighbourhood: mean similarity to its NEIGHBOURS nearest records, rescaled the same way.
A paper already in the knowledge base is marked `known`, and its own record is left out of its
neighbours, so its rank says how well the method would have found it. The suggested area is the
weighted vote of the nearest records.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kb.errors import KbError
from kb.identifier import normalise_arxiv
from kb.knowledge_base import KnowledgeBase
from kb.project import Project

NEIGHBOURS = 5
TOPIC_WEIGHT = 0.5
BATCH = 2048


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str
    score: float
    area: str
    known: bool


def read_bulk(path: Path) -> Iterator[tuple[str, str, str]]:
    """(arxiv id, title, abstract) per line of a JSON-lines file, gzip-compressed or not."""
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
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
                yield row["arxiv_id"].strip(), " ".join(row["title"].split()), abstract if isinstance(abstract, str) else ""
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise KbError(f"{path}: cannot read it ({exc})") from None


def discover(project: Project, kb: KnowledgeBase, path: Path) -> list[Candidate]:
    """Every paper of the file, most likely to belong first."""
    import numpy as np

    from kb.index import ensure_index
    from kb.static_model import encoder, static_model_dir

    index = ensure_index(project, kb)
    model = encoder(static_model_dir(project))
    rows = list(read_bulk(path))
    if not rows:
        return []
    records = index.static_vectors()
    vectors = np.concatenate([model.encode([f"{t}. {a}" for _, t, a in rows[i:i + BATCH]]) for i in range(0, len(rows), BATCH)])
    position = {pid: i for i, pid in enumerate(index.ids)}
    own = np.array([position.get(_plain_id(pid), -1) for pid, _, _ in rows])

    direction = records.mean(axis=0) - vectors.mean(axis=0) if len(records) else np.zeros(vectors.shape[1], dtype=np.float32)
    topical = _rescale(vectors @ direction)
    if len(records):
        similarity = vectors @ records.T
        known_rows = np.nonzero(own >= 0)[0]
        similarity[known_rows, own[known_rows]] = -1.0  # a paper must not be found through its own record
        take = min(NEIGHBOURS, len(records))
        nearest = np.argpartition(-similarity, take - 1, axis=1)[:, :take]
        near_scores = np.take_along_axis(similarity, nearest, axis=1)
        neighbourhood = _rescale(near_scores.mean(axis=1))
    else:
        nearest = np.zeros((len(rows), 0), dtype=int)
        near_scores = np.zeros((len(rows), 0))
        neighbourhood = np.zeros(len(rows))
    score = TOPIC_WEIGHT * topical + (1 - TOPIC_WEIGHT) * neighbourhood
    documents = index.documents
    out = []
    for i in np.argsort(-score, kind="stable"):
        votes: dict[str, float] = defaultdict(float)
        for j, s in zip(nearest[i], near_scores[i], strict=True):
            for area in documents[j].areas:
                votes[area] += max(float(s), 0.0)
        area = max(votes, key=lambda a: votes[a]) if votes else ""
        pid, title, _ = rows[i]
        out.append(Candidate(pid, title, round(float(score[i]), 4), area, bool(own[i] >= 0)))
    return out


def _plain_id(arxiv_id: str) -> str:
    try:
        return normalise_arxiv(arxiv_id)
    except (KbError, ValueError):
        return arxiv_id


def _rescale(values: object) -> object:
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    low, high = float(array.min()), float(array.max())
    return (array - low) / (high - low) if high > low else np.zeros_like(array)
