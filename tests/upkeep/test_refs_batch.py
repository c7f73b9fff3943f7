"""`kb refs --all`: Semantic Scholar's batch endpoint, 429s waited out, partial results kept per paper,
and the citation log the site reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import citations, yamlfile
from tests.upkeep.conftest import Services


def test_refs_all_waits_out_rate_limits_and_logs_what_it_fetched(
    curated_root: Path, run_kb, services: Services
) -> None:
    services.references = {"2501.00101": ["2501.00102", "2305.10355", "1706.03762"], "2501.00102": []}
    services.s2_throttle = 2
    out = run_kb("refs", "--all", cwd=curated_root, env=services.env())
    assert out.returncode == 0, out.stderr
    assert [r for r in services.requests if r.startswith("POST")] == [
        "POST /graph/v1/paper/batch?fields=externalIds%2CreferenceCount%2Creferences.externalIds"
    ] * 3
    data = yamlfile.load(curated_root / "papers" / "2501.00101.yaml").data
    assert data["cites"] == ["2305.10355", "2501.00102"]  # 1706.03762 is not a record: not kept
    log = json.loads((curated_root / "curation" / "citations.json").read_text())["papers"]
    assert set(log) == {"2501.00101", "2501.00102"}  # the others are unknown to the stand-in: never fetched
    assert log["2501.00101"]["references"] == 4 and log["2501.00101"]["arxiv"] == 3
    assert run_kb("validate", cwd=curated_root).returncode == 0


def test_fetch_all_honours_retry_after_and_keeps_what_it_got(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in services.env().items():
        monkeypatch.setenv(key, value)
    services.references = {"2501.00101": ["2501.00102"], "2501.00102": [], "2501.00103": ["2501.00101"]}
    services.s2_answers_before_throttle = 1
    services.s2_retry_after = "7"
    waits: list[float] = []
    monkeypatch.setattr(citations, "BATCH", 2)
    got = citations.fetch_all(["2501.00101", "2501.00102", "2501.00103"], sleep=waits.append)
    assert set(got.found) == {"2501.00101", "2501.00102"} and got.left == ["2501.00103"]
    assert got.error is not None and "HTTP 429 (rate limit) 5 times" in got.error
    assert waits == [citations.PAUSE, 7.0, 7.0, 7.0, 7.0]  # the pause between batches, then Retry-After each time


def test_a_refused_run_keeps_the_papers_answered_before_it(
    curated_root: Path, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.cli import app

    for key, value in services.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(citations, "BATCH", 2)
    monkeypatch.setattr(citations, "TRIES", 2)
    monkeypatch.setattr(citations, "PAUSE", 0.0)
    monkeypatch.setattr(citations, "BACKOFF", 0.0)
    services.references = {"2305.10355": [], "2311.16922": ["2305.10355"], "2410.04819": ["2305.10355", "2311.16922"]}
    services.s2_answers_before_throttle = 1
    unasked = (curated_root / "papers" / "2410.04819.yaml").read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["--root", str(curated_root), "refs", "--all"])
    assert result.exit_code == 1
    assert "the 2 papers answered before it are kept" in result.output
    log = json.loads((curated_root / "curation" / "citations.json").read_text())["papers"]
    assert set(log) == {"2305.10355", "2311.16922"}
    assert yamlfile.load(curated_root / "papers" / "2311.16922.yaml").data["cites"] == ["2305.10355"]
    assert (curated_root / "papers" / "2410.04819.yaml").read_text(encoding="utf-8") == unasked  # in the refused batch
