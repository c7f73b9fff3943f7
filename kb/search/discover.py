"""Finding papers that belong in the knowledge base in a bulk arXiv metadata file.

With a trained model (curation/discovery-model.json, `kb.search.relevance`) the score is the probability,
learnt from the records and the triage file, that a paper belongs. Without one (a new knowledge base) it is
a naive-Bayes log-odds that a paper's words come from the records rather than from the bulk file as a whole
(positive-unlabelled learning: the bulk file is mostly other work). Each distinct stemmed word of the title
and abstract adds log(P(word | records) / P(word | bulk)), with P(word | records) Dirichlet-smoothed towards
P(word | bulk) (prior weight MU) so that words the records never use count slightly against a paper instead
of for it. A paper already in the knowledge base is marked `known` and its own record is left out of the
counts (or of its neighbours), so its rank says whether discovery would have found it. The suggested area
is the best one `kb suggest` gives from the title and abstract (computed for the best AREA_RANKS papers).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kb.artefacts import Inputs
from kb.knowledge_base import KnowledgeBase
from kb.search.bulk import plain_id, read_bulk

if TYPE_CHECKING:
    import numpy as np

    from kb.search.ranking import Searcher
    from kb.search.relevance import AreaSuggester
    from kb.search.store import SearchIndex

MU = 1000.0
AREA_RANKS = 1000


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str
    score: float
    area: str
    known: bool  # already a record
    triaged: bool = False  # read before and judged out of scope (curation/excluded.yaml)

    @property
    def new(self) -> bool:
        return not self.known and not self.triaged


def discover(inputs: Inputs, path: Path, learned: bool = True) -> list[Candidate]:
    """Every paper of the file, most likely to belong first: by the learned model (`kb.search.relevance`,
    a probability) when the knowledge base has one and `learned`, else by the naive-Bayes log-odds."""
    import numpy as np

    from kb.search.ranking import Searcher
    from kb.search.relevance import Paper, open_scorer

    kb = inputs.kb
    searcher = Searcher.open(inputs)
    index = searcher.index
    rows = list(read_bulk(path))
    if not rows:
        return []
    position = {pid: i for i, pid in enumerate(index.ids)}
    own = np.array([position.get(plain_id(pid), -1) for pid, _, _ in rows])
    scorer = open_scorer(inputs) if learned else None
    if scorer is not None:
        # A known paper is not its own neighbour; its words are in the stored table, so its rank flatters a little.
        score = scorer.scores([Paper(plain_id(pid), title, abstract) for pid, title, abstract in rows])
    else:
        score = _log_odds(rows, index, own)
    order = np.argsort(-score, kind="stable")
    from kb.search.relevance import open_area_suggester

    areas = _areas(searcher, kb, rows, own, [int(i) for i in order[:AREA_RANKS]], open_area_suggester(inputs))
    return [
        Candidate(
            rows[i][0],
            rows[i][1],
            round(float(score[i]), 4),
            areas.get(int(i), ""),
            bool(own[i] >= 0),
            plain_id(rows[i][0]) in kb.triage,
        )
        for i in order
    ]


def _log_odds(rows: list[tuple[str, str, str]], index: SearchIndex, own: np.ndarray) -> np.ndarray:
    """The untrained score: naive-Bayes log-odds of records against the whole file (see the module's note)."""
    import numpy as np

    from kb.search.lexical import tokenize

    words = [set(tokenize(f"{t}. {a}")) for _, t, a in rows]
    record_words = [set(tokenize(d.text)) for d in index.documents]
    in_records: Counter[str] = Counter()
    for found in record_words:
        in_records.update(found)
    in_bulk: Counter[str] = Counter()
    for found in words:
        in_bulk.update(found)
    records, bulk = len(record_words), len(words)
    score = np.zeros(bulk)
    for i, found in enumerate(words):
        mine = record_words[own[i]] if own[i] >= 0 else set()
        total = 0.0
        for word in found:
            background = (in_bulk[word] + 0.5) / (bulk + 1)
            count = in_records.get(word, 0) - (word in mine)
            total += math.log((count + MU * background) / (records - bool(mine) + MU) / background)
        score[i] = total
    return score


def _areas(
    searcher: Searcher,
    kb: KnowledgeBase,
    rows: list[tuple[str, str, str]],
    own: np.ndarray,
    which: list[int],
    learned: AreaSuggester | None = None,
) -> dict[int, str]:
    """The best area `kb suggest` gives each of these papers (its own record left out of the neighbours)."""
    from kb.search.suggest import suggest

    out = {}
    for i in which:
        exclude = searcher.index.documents[own[i]].id if own[i] >= 0 else None
        areas = suggest(searcher, kb, rows[i][1], rows[i][2], exclude=exclude, learned=learned).areas
        out[i] = areas[0][0] if areas else ""
    return out
