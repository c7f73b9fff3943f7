"""`kb watch` against a loopback arXiv: pages through a listing, skips what is known, drafts what the learned
model ranks high, remembers where it stopped; every failure writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb import yamlfile
from tests.upkeep.conftest import Entry, Services

IN_SCOPE = [
    Entry(
        "2611.00001",
        "Attention heads that read image tokens in multimodal LLMs",
        "We analyse which attention heads of vision-language models move information from visual tokens to the answer.",
        "2026-11-28",
    ),
    Entry(
        "2611.00002",
        "Object hallucination of large vision-language models: a benchmark",
        "A benchmark measures how often multimodal LLMs hallucinate objects that are not in the image.",
        "2026-11-27",
    ),
    Entry(
        "2611.00003",
        "Neurons for visual concepts in vision-language models",
        "We find neurons in multimodal LLMs that respond to visual concepts and ablate them to test their role.",
        "2026-11-25",
    ),
]
OFF_TOPIC = [
    Entry(
        "2611.00004",
        "Traffic speed forecasting with graph transformers",
        "Graph transformers predict road traffic speed from loop sensors.",
        "2026-11-28",
    ),
    Entry(
        "2611.00005",
        "Quantum annealing for portfolio optimisation",
        "An annealer picks portfolios under budget constraints.",
        "2026-11-26",
    ),
    Entry(
        "2611.00006",
        "Soil moisture estimation from radar satellites",
        "Regression on radar backscatter estimates soil moisture.",
        "2026-11-24",
    ),
]
KNOWN = Entry(
    "2501.00103", "A benchmark of object hallucination in large vision-language models", "Listed again.", "2026-11-27"
)
TRIAGED = Entry("2501.00201", "Graph neural networks for traffic forecasting", "Listed again.", "2026-11-26")
WITHDRAWN = Entry(
    "2611.00007",
    "Visual tokens in multimodal models, revisited",
    "This paper has been withdrawn.",
    "2026-11-26",
    comment="This paper has been withdrawn by the authors",
)
MALFORMED = Entry(
    "2611.00008", "An entry without its date of first posting", "Malformed on purpose.", "2026-11-25", malformed=True
)
OLDER = Entry(
    "2611.00009",
    "Attention to image tokens in multimodal LLMs, an older study",
    "Older than the watch window.",
    "2026-11-10",
)


def listing() -> list[Entry]:
    entries = [*IN_SCOPE, *OFF_TOPIC, KNOWN, TRIAGED, WITHDRAWN, MALFORMED]
    return sorted(entries, key=lambda e: e.published, reverse=True) + [OLDER]


def papers(root: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((root / "papers").iterdir())}


def test_watch_drafts_new_in_scope_papers_and_remembers_where_it_stopped(
    curated_root: Path, run_kb, services: Services
) -> None:
    services.listing = listing()
    services.empty_once = {3}  # arXiv sometimes answers a page empty; the package asks again
    before = papers(curated_root)
    out = run_kb(
        "watch",
        "--since",
        "2026-11-20",
        "--page-size",
        "3",
        "--no-suggest",
        "--json",
        cwd=curated_root,
        env=services.env(),
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    drafted = {d["id"] for d in report["drafted"]}
    assert drafted == {e.id for e in IN_SCOPE}, report
    assert report["records"] == 1 and report["triaged"] == 1 and report["below"] == len(OFF_TOPIC)
    assert report["withdrawn"] == ["2611.00007"] and len(report["malformed"]) == 1
    # It paged: 3 entries a request, stopping at the first paper older than --since (the empty page was retried).
    starts = [int(q["start"][0]) for q in services.listing_requests()]
    assert starts == [0, 3, 3, 6, 9]
    query = services.listing_requests()[0]["search_query"][0]
    assert "cat:cs.CV" in query and 'abs:"vision-language"' in query and "submittedDate:[202611200000 TO" in query
    after = papers(curated_root)
    assert set(after) - set(before) == {f"{i}.yaml" for i in drafted}
    text = after["2611.00001.yaml"]
    data = yamlfile.parse(text).data
    assert data["title"] == IN_SCOPE[0].title and data["authors"] == ["Ada Example", "Bo Tester"]
    assert data["published"] == "2026-11-28" and "TODO" in data["summary"] and data["added"]
    state = json.loads((curated_root / "curation" / "watch.json").read_text())
    assert state["through"] == "2026-11-28"

    # `kb validate` refuses the drafts until a person writes them.
    check = run_kb("validate", cwd=curated_root)
    assert check.returncode == 1 and "papers/2611.00001.yaml" in check.stderr and "TODO placeholder" in check.stderr

    # The next watch starts from where this one stopped (less the overlap) and drafts nothing twice.
    services.requests.clear()
    again = run_kb("watch", "--page-size", "50", "--no-suggest", "--json", cwd=curated_root, env=services.env())
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["since"] == "2026-11-25" and second["drafted"] == []
    assert "submittedDate:[202611250000 TO" in services.listing_requests()[0]["search_query"][0]


def test_dry_run_and_max(curated_root: Path, run_kb, services: Services) -> None:
    services.listing = listing()
    before = papers(curated_root)
    out = run_kb(
        "watch",
        "--since",
        "2026-11-20",
        "--max",
        "1",
        "--dry-run",
        "--no-suggest",
        cwd=curated_root,
        env=services.env(),
    )
    assert out.returncode == 0, out.stderr
    assert "over --max 1: not drafted" in out.stdout and "dry run: nothing written" in out.stderr
    assert papers(curated_root) == before and not (curated_root / "curation" / "watch.json").exists()


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        # Retries and their back-off share the one deadline (kb.download): an outage ends as a timeout.
        ({"arxiv_status": 503}, "arXiv did not answer within 1 s"),
        ({"arxiv_delay": 3.0}, "arXiv did not answer within 1 s"),
        ({"arxiv_garbage": True}, "not an Atom feed"),
        ({"empty_always": {3}}, "empty page inside the listing"),
    ],
    ids=["503", "timeout", "malformed feed", "empty page"],
)
def test_an_arxiv_failure_writes_nothing(
    curated_root: Path, run_kb, services: Services, setup: dict, words: str
) -> None:
    services.listing = listing()
    for key, value in setup.items():
        setattr(services, key, value)
    before = papers(curated_root)
    out = run_kb(
        "watch",
        "--since",
        "2026-11-20",
        "--page-size",
        "3",
        "--timeout",
        "1",
        "--no-suggest",
        cwd=curated_root,
        env=services.env(),
    )
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith("kb: ") and words in lines[-1], out.stderr
    assert sum(line.startswith("kb:") for line in lines) == 1 and "Traceback" not in out.stderr
    assert papers(curated_root) == before and not (curated_root / "curation" / "watch.json").exists()


def test_watch_without_a_model_says_how_to_train_one(toy_root: Path, run_kb, services: Services) -> None:
    out = run_kb("watch", cwd=toy_root, env=services.env())
    assert out.returncode == 1 and "kb discover FILE --train" in out.stderr
