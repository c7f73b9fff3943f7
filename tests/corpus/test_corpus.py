"""The curated corpus against the shared reference data: facts equal, prose our own, coverage complete."""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from kb import identifier
from kb.knowledge_base import KnowledgeBase
from kb.loader import load
from kb.project import Project

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "corpus"
RUN = 8  # a shared run of this many words counts as copying

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/corpus is not beside the repository")


@lru_cache(maxsize=1)
def reference() -> dict[str, dict[str, object]]:
    rows: dict[str, dict[str, object]] = {}
    for name in ("candidates.jsonl", "foundations.jsonl"):
        for line in (SHARED / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["arxiv_id"]] = row
    return rows


@lru_cache(maxsize=1)
def corpus() -> KnowledgeBase:
    return load(Project(REPO))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold())


def shared_runs(ours: str, theirs: str, n: int = RUN) -> list[str]:
    theirs_words = words(theirs)
    grams = {tuple(theirs_words[i : i + n]) for i in range(len(theirs_words) - n + 1)}
    ours_words = words(ours)
    return [" ".join(ours_words[i : i + n]) for i in range(len(ours_words) - n + 1) if tuple(ours_words[i : i + n]) in grams]


def test_shared_runs_detects_a_copied_phrase() -> None:
    abstract = "We introduce a simple and training-free method that contrasts output distributions derived from images."
    assert shared_runs("Our take: a simple and training-free method that contrasts output distributions, briefly.", abstract)
    assert not shared_runs("A decoding trick that compares predictions for clean and noisy pictures.", abstract)


@lru_cache(maxsize=1)
def bulk_abstracts() -> dict[str, str]:
    """The bulk file's abstracts by id (third-party text: only used to check that we did not copy it)."""
    out = {}
    with gzip.open(SHARED / "arxiv-llm-papers.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            out[row["arxiv_id"]] = row.get("abstract") or ""
    return out


def test_no_record_copies_its_abstract() -> None:
    """Summary, findings and curators' note share no run of eight words with the abstract in any shared
    source: the candidate and foundation lists and the 28.5k-paper bulk file."""
    copied = []
    bulk = bulk_abstracts()
    for record in corpus():
        prose = " ".join([record.summary, *record.findings, record.curators_note or ""])
        row = reference().get(record.id)
        for abstract in (str(row.get("abstract") or "") if row else "", bulk.get(record.id, "")):
            runs = shared_runs(prose, abstract) if abstract else []
            if runs:
                copied.append(f"{record.id}: '{runs[0]}'")
                break
    assert not copied, "records share 8-word runs with their abstracts:\n" + "\n".join(copied)


EDITORIAL = re.compile(r"^(?P<listed>.*?) \((?:earlier arXiv title|arXiv-listing title): (?P<other>.*)\)$")


def earlier_titles(row: dict[str, object]) -> list[str]:
    """The titles a paper list carried besides the current one; some lists add an editorial note in
    parentheses ('X (earlier arXiv title: Y)'), which names two titles rather than being one."""
    listed = str(row.get("list_title") or "")
    if not listed:
        return []
    match = EDITORIAL.match(listed)
    candidates = [match["listed"], match["other"]] if match else [listed]
    return [t for t in candidates if t != row["title"]]


def test_editorial_list_titles_are_split() -> None:
    row = {"title": "B", "list_title": "A (earlier arXiv title: C)"}
    assert earlier_titles(row) == ["A", "C"]
    assert earlier_titles({"title": "B", "list_title": "B (arXiv-listing title: B)"}) == []
    assert earlier_titles({"title": "B", "list_title": None}) == []


def test_facts_equal_the_reference_data() -> None:
    wrong = []
    for record in corpus():
        row = reference().get(record.id)
        if row is None:
            continue
        month = identifier.arxiv_month(record.id)
        expected = {
            "title": row["title"],
            "authors": row["authors"],
            "year": month[0] if month else None,
            # A month-only date ("2024-10") cannot be a record's full date: it must stay unknown there.
            "published": row["published"] if row["published"] is None or len(row["published"]) == 10 else None,
            "arxiv": row["arxiv_id"],
        }
        actual = {
            "title": record.title,
            "authors": record.authors,
            "year": record.year,
            "published": record.published.isoformat() if record.published else None,
            "arxiv": record.links.arxiv,
        }
        for key, value in expected.items():
            if actual[key] != value:
                wrong.append(f"{record.id}: {key} is {actual[key]!r}, the data says {value!r}")
        if record.venue not in (row["venue"], None):
            wrong.append(f"{record.id}: venue is {record.venue!r}, the data says {row['venue']!r}")
        for alias in earlier_titles(row):
            if alias not in record.aliases:
                wrong.append(f"{record.id}: the earlier title {alias!r} is not among the aliases")
    assert not wrong, "\n".join(wrong)


def test_every_foundation_has_a_record() -> None:
    foundations = [json.loads(line)["arxiv_id"] for line in (SHARED / "foundations.jsonl").read_text().splitlines() if line.strip()]
    missing = [f for f in foundations if corpus().get(f) is None]
    assert not missing, f"foundations without a record: {missing}"


def test_bulk_file_is_not_shipped() -> None:
    with gzip.open(SHARED / "arxiv-llm-papers.jsonl.gz", "rt", encoding="utf-8") as handle:
        first = json.loads(handle.readline())
    assert "abstract" in first  # the format the discovery command reads
    assert not list(REPO.glob("**/arxiv-llm-papers*")), "the bulk file must not be copied into the project"


def _bare(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url).rstrip("/").casefold()


def test_code_and_project_links_are_written_in_the_reference_text() -> None:
    """A link is a fact: it must appear in the paper's abstract or its checking note, never be guessed."""
    unsupported = []
    for record in corpus():
        row = reference().get(record.id)
        if row is None:
            continue
        text = re.sub(r"\s+", "", f"{row.get('abstract') or ''} {row.get('note') or ''}").casefold()
        text = re.sub(r"https?://(www\.)?", "", text)
        for kind in ("code", "project"):
            url = getattr(record.links, kind)
            if url and _bare(url) not in text:
                unsupported.append(f"{record.id}: links.{kind} {url}")
    assert not unsupported, "\n".join(unsupported)


def test_every_candidate_is_a_record_or_listed_as_excluded() -> None:
    candidates = [json.loads(line)["arxiv_id"] for line in (SHARED / "candidates.jsonl").read_text().splitlines() if line.strip()]
    curation = (REPO / "site" / "curation.md").read_text()
    missing = [c for c in candidates if corpus().get(c) is None and c not in curation]
    assert not missing, f"candidates neither curated nor listed as excluded in site/curation.md: {missing}"
    assert sum(corpus().get(c) is not None for c in candidates) >= 0.95 * len(candidates)


def test_every_leaf_area_holds_enough_papers() -> None:
    """15 in every leaf of the survey's three perspectives; the foundations hold what the methods stand on."""
    kb = corpus()
    thin = {}
    for leaf in kb.taxonomy.leaves():
        needed = 3 if leaf.startswith("foundations.") else 15
        if len(kb.in_area(leaf)) < needed:
            thin[leaf] = len(kb.in_area(leaf))
    assert not thin, f"leaf areas with too few papers: {thin}"


def test_no_bulk_paper_is_both_a_record_and_excluded_and_every_excluded_one_was_read() -> None:
    """The triage file names only papers that exist in the bulk file or were found later (ids from 2510 on)."""
    kb = load(Project(REPO), with_triage=True)
    bulk = bulk_abstracts()
    unknown = [pid for pid in kb.triage.excluded if pid not in bulk and pid < "2510"]
    assert not unknown, f"excluded ids that are neither bulk papers nor recent finds: {unknown[:10]}"
    assert not set(kb.triage.excluded) & set(kb.records)
