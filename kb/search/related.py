"""Related papers: each paper's nearest papers by the sentence-transformer vectors of their indexed text,
found by faiss (one batched search for the whole knowledge base)."""

from __future__ import annotations

import contextlib

from kb.errors import KbError
from kb.search.store import SearchIndex


def related_all(index: SearchIndex, k: int = 5) -> dict[str, list[tuple[str, float]]]:
    """For every paper, its k nearest other papers with their cosine similarity, nearest first."""
    ids = index.ids
    if len(ids) < 2:
        return {pid: [] for pid in ids}
    scores, rows = index.dense.search(index.dense.vectors(), k + 1)
    out: dict[str, list[tuple[str, float]]] = {}
    for row, paper_id in enumerate(ids):
        pairs = [
            (ids[j], round(float(s), 4)) for j, s in zip(rows[row], scores[row], strict=True) if j >= 0 and j != row
        ]
        out[paper_id] = pairs[:k]
    return out


def related(index: SearchIndex, paper_id: str, k: int = 5) -> list[tuple[str, float]]:
    """The k nearest papers to one paper (given by id, a versioned id or an arXiv URL)."""
    from kb.identifier import normalise_arxiv

    wanted = paper_id.strip()
    if wanted not in index.position:
        with contextlib.suppress(KbError, ValueError):
            wanted = normalise_arxiv(wanted)
    if wanted not in index.position:
        from kb.facets import did_you_mean

        raise KbError(f"no record '{paper_id}' in papers/{did_you_mean(paper_id, index.ids)}")
    row = index.position[wanted]
    scores, rows = index.dense.search(index.dense.vectors()[row], k + 1)
    return [(index.ids[j], round(float(s), 4)) for j, s in zip(rows[0], scores[0], strict=True) if j >= 0 and j != row][
        :k
    ]
