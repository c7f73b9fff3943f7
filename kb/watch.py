"""Watching arXiv: which newly submitted papers deserve a draft, and where the last watch stopped.

`kb watch` lists recent submissions in the relevant categories (`query`), leaves out papers that are
records (or drafts) already and papers of the triage file, scores the rest with the learned relevance
model (`kb.search.relevance`) and drafts those that reach its threshold, best first.

Where it stopped lives in STATE_FILE (curation/watch.json, committed): the newest submission date the
last watch read in full. It is committed rather than kept under build/ because the weekly workflow runs
on a fresh checkout, where build/ is empty, and because the pull request that carries the drafts should
also carry how far they reach (merging it moves the watch on; closing it unmerged means the next run
lists the same papers again). The next watch starts OVERLAP_DAYS before that date: arXiv announces a
paper a day or more after its submission date, so the last days of a listing can still grow.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kb import atomic, identifier
from kb.errors import KbError

if TYPE_CHECKING:
    import numpy as np

    from kb.arxiv_api import ArxivPaper
    from kb.knowledge_base import KnowledgeBase
    from kb.project import Project

STATE_FILE = "curation/watch.json"
OVERLAP_DAYS = 3
FIRST_WATCH_DAYS = 7
# The arXiv categories where multimodal-model explainability is posted.
CATEGORIES = ("cs.CV", "cs.CL", "cs.LG", "cs.AI", "cs.MM")
# Words that mark a paper as about multimodal models; the model names studied by the records are added.
ANCHORS = (
    "multimodal",
    "multi-modal",
    "vision-language",
    "vision language",
    "MLLM",
    "MLLMs",
    "LVLM",
    "LVLMs",
    "VLM",
    "VLMs",
)
MODEL_NAMES = 25  # the most studied models join the query (arXiv's URLs stay short)
MIN_STUDIES = 2


def query(kb: KnowledgeBase, since: dt.date) -> str:
    """arXiv's search_query: the categories, AND a multimodal anchor or a model the records study, AND
    submitted on or after `since`."""
    studied: Counter[str] = Counter()
    model_facet = next((f for f in kb.taxonomy.registry if f.key == "model"), None)
    if model_facet is not None:
        for record in kb:
            studied.update(record.values(model_facet.key))
    names = [
        name for name, count in sorted(studied.items(), key=lambda item: (-item[1], item[0])) if count >= MIN_STUDIES
    ]
    terms = [*ANCHORS, *names[:MODEL_NAMES]]
    cats = " OR ".join(f"cat:{c}" for c in CATEGORIES)
    words = " OR ".join(f'abs:"{t}"' if not t.isalnum() else f"abs:{t}" for t in terms)
    return f"({cats}) AND ({words}) AND submittedDate:[{since:%Y%m%d}0000 TO 299912312359]"


# -- where the last watch stopped -------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    through: dt.date | None  # the newest submission date the last watch read

    def since(self, today: dt.date) -> dt.date:
        if self.through is None:
            return today - dt.timedelta(days=FIRST_WATCH_DAYS)
        return self.through - dt.timedelta(days=OVERLAP_DAYS)


def state_path(project: Project) -> Path:
    return project.root / STATE_FILE


def read_state(project: Project) -> State:
    path = state_path(project)
    if not path.is_file():
        return State(None)
    shown = project.shown(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        through = data["through"]
        return State(dt.date.fromisoformat(through) if through else None)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KbError(f"{shown}: not a watch state ({exc}); fix it, delete it, or pass --since") from None


def write_state(project: Project, state: State) -> None:
    data = {
        "through": state.through.isoformat() if state.through else None,
        "note": (
            "written by `kb watch`: the newest arXiv submission date it read in full; the next watch starts "
            f"{OVERLAP_DAYS} days earlier"
        ),
    }
    atomic.write_text(state_path(project), json.dumps(data, indent=1) + "\n")


# -- deciding -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    paper: ArxivPaper
    verdict: str  # "draft", "below", "record" (already a record or a draft) or "triaged"
    score: float | None = None


def decide(
    papers: Sequence[ArxivPaper], kb: KnowledgeBase, papers_dir: Path, scores: dict[str, float], threshold: float
) -> list[Decision]:
    """Every listed paper with what happens to it; scored papers best first."""
    out: list[Decision] = []
    for paper in papers:
        if paper.id in kb.records or (papers_dir / f"{identifier.file_stem(paper.id)}.yaml").exists():
            out.append(Decision(paper, "record"))
        elif paper.id in kb.triage:
            out.append(Decision(paper, "triaged"))
        else:
            score = scores[paper.id]
            out.append(Decision(paper, "draft" if score >= threshold else "below", score))
    return sorted(out, key=lambda d: (d.score is None, -(d.score or 0.0), d.paper.id))


def to_score(papers: Sequence[ArxivPaper], kb: KnowledgeBase, papers_dir: Path) -> list[ArxivPaper]:
    """The papers that are neither records (nor drafts) nor triaged: the ones the model scores."""
    return [
        p
        for p in papers
        if p.id not in kb.records
        and p.id not in kb.triage
        and not (papers_dir / f"{identifier.file_stem(p.id)}.yaml").exists()
    ]


def newest(papers: Sequence[ArxivPaper], before: dt.date | None) -> dt.date | None:
    dates = [p.published for p in papers]
    if before is not None:
        dates.append(before)
    return max(dates) if dates else None


def scores_of(values: np.ndarray, papers: Sequence[ArxivPaper]) -> dict[str, float]:
    return {p.id: round(float(v), 4) for p, v in zip(papers, values, strict=True)}
