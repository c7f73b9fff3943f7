"""`kb add`: drafts from recorded arXiv answers, refused by `kb validate` until reviewed; every failure
writes nothing and says one clear thing."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from kb import yamlfile
from kb.records import PLACEHOLDER


def _papers(root: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((root / "papers").iterdir())}


def test_versioned_url_gives_an_exact_draft_that_validation_refuses(toy_root: Path, run_kb, recorded: Any) -> None:
    recorded.atom("2406.16338", "2406.16338.atom")
    result = run_kb("add", "https://arxiv.org/abs/2406.16338v2", "--no-suggest", cwd=toy_root, env=recorded.env())
    assert result.returncode == 0, result.stderr
    assert "wrote draft papers/2406.16338.yaml" in result.stdout
    # The versioned id reached arXiv without its version.
    assert any("id_list=2406.16338&" in r for r in recorded.requests)

    text = (toy_root / "papers" / "2406.16338.yaml").read_text(encoding="utf-8")
    data = yamlfile.parse(text).data
    assert data["id"] == "2406.16338"
    assert data["title"] == "VideoHallucer: Evaluating Intrinsic and Extrinsic Hallucinations in Large Video-Language Models"
    assert data["authors"] == ["Yuxuan Wang", "Yueqian Wang", "Dongyan Zhao", "Cihang Xie", "Zilong Zheng"]
    assert data["year"] == 2024 and data["published"] == "2024-06-24"
    assert data["links"] == {"arxiv": "2406.16338"}
    assert data["sources"] == ["https://arxiv.org/abs/2406.16338"]
    assert PLACEHOLDER in data["summary"] and all(PLACEHOLDER in f for f in data["findings"])
    assert "venue" not in data  # arXiv stated none: unknown stays unknown
    assert data["added"] == dt.date.today().isoformat()  # the day it entered the knowledge base, for the feeds
    # The abstract is not copied into the draft.
    assert "control question" not in text

    check = run_kb("validate", cwd=toy_root)
    assert check.returncode == 1
    lines = {line.split(": ", 2)[1] for line in check.stderr.splitlines() if line.startswith("papers/2406.16338.yaml:")}
    assert {"summary", "findings[0]", "taxonomy", "modalities", "contribution"} <= lines
    assert f"still holds the {PLACEHOLDER} placeholder" in check.stderr
    summary_line = text.splitlines().index("summary: >-") + 1
    assert f"papers/2406.16338.yaml:{summary_line}: summary:" in check.stderr


def test_reviewed_draft_becomes_valid(toy_root: Path, run_kb, recorded: Any) -> None:
    recorded.atom("1703.01365", "1703.01365.atom")
    assert run_kb("add", "arXiv:1703.01365", "--no-suggest", cwd=toy_root, env=recorded.env()).returncode == 0
    path = toy_root / "papers" / "1703.01365.yaml"
    text = path.read_text(encoding="utf-8")
    assert "venue: ICML 2017" in text and "# REVIEW: arXiv's journal reference" in text
    # What a contributor does: pick the classification and write the prose.
    text = text.replace("taxonomy: []", "taxonomy: [model.token.visual-textual]").replace("modalities: []", "modalities: [image, text]")
    text = text.replace(f"contribution: {PLACEHOLDER}", "contribution: method")
    data = yamlfile.parse(text).data
    text = text.replace(yamlfile.dump({"summary": data["summary"]}), yamlfile.dump({"summary": "Defines two properties an attribution method should have and an integrated-gradients method that has both, needing only gradient calls on an unchanged network."}))
    text = text.replace(yamlfile.dump({"findings": data["findings"]}), yamlfile.dump({"findings": ["Plain gradients break the sensitivity property; path integrals restore it."]}))
    path.write_text(text, encoding="utf-8")
    check = run_kb("validate", "papers/1703.01365.yaml", cwd=toy_root)
    assert check.returncode == 0, check.stderr


def test_old_style_id(toy_root: Path, run_kb, recorded: Any) -> None:
    recorded.atom("hep-ex/0406020", "hep-ex_0406020.atom")
    result = run_kb("add", "hep-ex/0406020v1", "--no-suggest", cwd=toy_root, env=recorded.env())
    assert result.returncode == 0, result.stderr
    data = yamlfile.load(toy_root / "papers" / "hep-ex_0406020.yaml").data
    assert data["id"] == "hep-ex/0406020" and data["authors"] == ["Alessia Tricomi"]
    assert data["published"] == "2004-06-07" and data["year"] == 2004


def test_existing_record_is_refused_then_updated_with_a_diff(toy_root: Path, run_kb, recorded: Any) -> None:
    recorded.atom("1703.01365", "1703.01365.atom")
    path = toy_root / "papers" / "1703.01365.yaml"
    reviewed = (
        "id: '1703.01365'\ntitle: Axiomatic attribution (old title)\nyear: 2017\nvenue: ICML 2017\n"
        "taxonomy: [model.token.visual-textual]\nmodalities: [image, text]\ncontribution: method\n"
        "summary: >-\n  Defines two properties an attribution method should have and an integrated-gradients method that has both.\n"
        "findings:\n  - Plain gradients break the sensitivity property; path integrals restore it.\n"
    )
    path.write_text(reviewed, encoding="utf-8")
    refused = run_kb("add", "1703.01365", cwd=toy_root, env=recorded.env())
    assert refused.returncode == 1
    assert "papers/1703.01365.yaml already exists; nothing written" in refused.stderr
    assert "kb add --update 1703.01365" in refused.stderr
    assert recorded.requests == []  # refused before asking arXiv
    assert path.read_text(encoding="utf-8") == reviewed

    dry = run_kb("add", "--update", "--dry-run", "1703.01365", cwd=toy_root, env=recorded.env())
    assert dry.returncode == 0, dry.stderr
    assert "+title: Axiomatic Attribution for Deep Networks" in dry.stdout and "-title: Axiomatic attribution (old title)" in dry.stdout
    assert path.read_text(encoding="utf-8") == reviewed

    updated = run_kb("add", "--update", "1703.01365", cwd=toy_root, env=recorded.env())
    assert updated.returncode == 0, updated.stderr
    data = yamlfile.load(path).data
    assert data["title"] == "Axiomatic Attribution for Deep Networks"
    assert data["aliases"] == ["Axiomatic attribution (old title)"]
    assert data["authors"] == ["Mukund Sundararajan", "Ankur Taly", "Qiqi Yan"]
    assert data["summary"].startswith("Defines two properties")  # the contributor's words are kept
    assert run_kb("validate", "papers/1703.01365.yaml", cwd=toy_root).returncode == 0


def test_unknown_id_writes_nothing(toy_root: Path, run_kb, recorded: Any) -> None:
    before = _papers(toy_root)
    result = run_kb("add", "2406.99998", cwd=toy_root, env=recorded.env())
    assert result.returncode == 1
    assert "kb: 2406.99998: arXiv has no paper with this id" in result.stderr
    assert "Traceback" not in result.stderr
    assert _papers(toy_root) == before


def test_one_bad_id_among_several_writes_none(toy_root: Path, run_kb, recorded: Any) -> None:
    recorded.atom("2406.16338", "2406.16338.atom")
    before = _papers(toy_root)
    result = run_kb("add", "2406.16338", "2406.99998", "--no-suggest", cwd=toy_root, env=recorded.env())
    assert result.returncode == 1 and "2406.99998: arXiv has no paper" in result.stderr
    assert _papers(toy_root) == before


def test_malformed_id_is_refused_without_asking(toy_root: Path, run_kb, recorded: Any) -> None:
    for bad in ("abc", "2413.00001", "1234.56789"):
        result = run_kb("add", bad, cwd=toy_root, env=recorded.env())
        assert result.returncode == 1 and result.stderr.startswith("kb: "), result.stderr
        assert "arXiv id" in result.stderr or "month" in result.stderr
    assert recorded.requests == []


def test_arxiv_error_entry_is_reported(toy_root: Path, run_kb, recorded: Any) -> None:
    recorded.atom("2406.16338", "error-malformed-id.atom", status=400)
    result = run_kb("add", "2406.16338", cwd=toy_root, env=recorded.env())
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "kb: 2406.16338: arXiv refused the id as malformed (HTTP 400)"
    assert not (toy_root / "papers" / "2406.16338.yaml").exists()


def test_withdrawn_paper_is_refused(toy_root: Path, run_kb, recorded: Any) -> None:
    recorded.atom("2401.99999", "withdrawn-2401.99999.atom")
    result = run_kb("add", "2401.99999", cwd=toy_root, env=recorded.env())
    assert result.returncode == 1
    assert "2401.99999: arXiv lists this paper as withdrawn" in result.stderr
    assert not (toy_root / "papers" / "2401.99999.yaml").exists()


def test_server_error_is_reported_after_retries(toy_root: Path, run_kb, recorded: Any) -> None:
    recorded.atom("2406.16338", "not-found.atom", status=503)
    result = run_kb("add", "2406.16338", cwd=toy_root, env=recorded.env())
    assert result.returncode == 1
    assert "arXiv answered HTTP 503 after 3 tries" in result.stderr
    assert len(recorded.requests) == 3


def test_timeout(toy_root: Path, run_kb, recorded: Any) -> None:
    recorded.atom("2406.16338", "2406.16338.atom", delay=2.0)
    started = time.monotonic()
    result = run_kb("add", "2406.16338", "--timeout", "0.5", cwd=toy_root, env=recorded.env())
    assert result.returncode == 1
    assert "2406.16338: arXiv did not answer within 0.5 s" in result.stderr
    assert time.monotonic() - started < 10
    assert not (toy_root / "papers" / "2406.16338.yaml").exists()


def test_network_failure(toy_root: Path, run_kb, recorded: Any) -> None:
    env = {**recorded.env(), "KB_ARXIV_API_URL": "http://127.0.0.1:9/api/query"}  # the discard port: refused
    result = run_kb("add", "2406.16338", cwd=toy_root, env=env)
    assert result.returncode == 1
    assert "2406.16338: cannot reach arXiv at http://127.0.0.1:9/api/query" in result.stderr
    assert "KB_ARXIV_API_URL" in result.stderr and "Traceback" not in result.stderr


def test_bad_api_url_setting(toy_root: Path, run_kb) -> None:
    result = run_kb("add", "2406.16338", cwd=toy_root, env={"KB_ARXIV_API_URL": "ftp://mirror"})
    assert result.returncode == 1 and "KB_ARXIV_API_URL='ftp://mirror' is not an http(s) URL" in result.stderr


def test_draft_round_trips_through_the_loader_reader() -> None:
    from kb import draft
    from kb.arxiv_api import ArxivPaper
    from kb.taxonomy import load_taxonomy

    root = Path(__file__).parents[1] / "data" / "toykb"
    taxonomy = load_taxonomy(root / "taxonomy")
    # Fictitious paper: a title full of YAML syntax and a non-ASCII name must survive.
    paper = ArxivPaper(id="2401.00001", version="v3", title='Colons: "quotes", #hashes & a [list]? - yes', authors=["Zoë Fictional-Name", "O'Brien Test"],
                       published=dt.date(2024, 1, 2), abstract="", comment=None, journal_ref=None, doi="10.1234/fake.5678", primary_category="cs.CV")
    proposal = draft.Proposal(areas=[("model.layer", 0.9), ("model.token.visual-textual", 0.6), ("data.benchmarks", 0.1)],
                              facets={"modalities": [("image", 0.8), ("text", 0.7)], "contribution": [("analysis", 0.5), ("method", 0.4)], "models_studied": [("LLaVA-1.5", 0.9)]})
    text = draft.render(paper, taxonomy, proposal, today=dt.date(2025, 1, 1))
    draft.check_round_trip(text, paper)
    data = yamlfile.parse(text).data
    assert data["title"] == paper.title and data["authors"] == paper.authors
    assert data["taxonomy"] == ["model.layer", "model.token.visual-textual"]  # 0.1 is under half the best score
    assert data["contribution"] == "analysis" and data["links"]["doi"] == "10.1234/fake.5678"
    assert "  # 0.90" in text and "# REVIEW" in text


@pytest.mark.slow
def test_draft_with_suggested_classification(search_root: Path, run_kb, recorded: Any) -> None:
    toy_root = search_root  # a toy knowledge base whose search index is built (in a temporary folder)
    recorded.atom("2406.16338", "2406.16338.atom")
    result = run_kb("add", "2406.16338", cwd=toy_root, env=recorded.env())
    assert result.returncode == 0, result.stderr
    assert "suggesting a classification from 5 records" in result.stderr
    text = (toy_root / "papers" / "2406.16338.yaml").read_text(encoding="utf-8")
    assert "suggested by `kb suggest`" in text
    data = yamlfile.parse(text).data
    assert data["taxonomy"] and data["modalities"] and data["contribution"] != PLACEHOLDER
    # Every suggestion is a valid term, so all that stands between the draft and a merge is the prose.
    check = run_kb("validate", cwd=toy_root)
    assert check.returncode == 1
    fields = {line.split(": ", 2)[1] for line in check.stderr.splitlines() if line.startswith("papers/2406.16338.yaml:")}
    assert fields == {"summary", "findings[0]"}, check.stderr
