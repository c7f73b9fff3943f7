"""`kb refresh`: arXiv's current facts fill what a record lacks; nothing a person wrote changes."""

from __future__ import annotations

from pathlib import Path

from kb import yamlfile
from tests.upkeep.conftest import Entry, Services


def test_refresh_fills_authors_venue_doi_and_records_a_new_title(
    curated_root: Path, run_kb, services: Services
) -> None:
    services.papers = {
        "2501.00101": Entry(
            "2501.00101",
            "Modality-specific neurons in multimodal language models",
            "x",
            "2025-01-03",
            journal_ref="Fictitious Workshop on Multimodal Models 2026",
            doi="10.1234/kb.fictitious.101",
        ),
        "2501.00102": Entry(
            "2501.00102", "Where multimodal LLMs look: visual attention across layers", "x", "2025-01-04"
        ),
    }
    authorless = curated_root / "papers" / "2501.00101.yaml"
    renamed = curated_root / "papers" / "2501.00102.yaml"
    before = {p: p.read_text(encoding="utf-8") for p in (authorless, renamed)}
    assert "authors" not in yamlfile.parse(before[authorless]).data

    shown = run_kb("refresh", "2501.00101", "2501.00102v2", cwd=curated_root, env=services.env())
    assert shown.returncode == 0, shown.stderr
    assert "+authors:" in shown.stdout and "+venue: Fictitious Workshop" in shown.stdout
    assert "nothing written: run again with --write" in shown.stderr
    assert {p: p.read_text(encoding="utf-8") for p in before} == before

    written = run_kb("refresh", "2501.00101", "2501.00102", "--write", cwd=curated_root, env=services.env())
    assert written.returncode == 0, written.stderr
    data = yamlfile.load(authorless).data
    assert data["authors"] == ["Ada Example", "Bo Tester"] and data["published"] == "2025-01-03"
    assert (
        data["venue"] == "Fictitious Workshop on Multimodal Models 2026"
        and data["links"]["doi"] == "10.1234/kb.fictitious.101"
    )
    assert data["sources"] == ["https://arxiv.org/abs/2501.00101"]
    old = yamlfile.parse(before[authorless]).data
    assert {k: v for k, v in data.items() if k not in ("authors", "published", "venue", "links", "sources")} == {
        k: v for k, v in old.items() if k not in ("links",)
    }
    # Only the new blocks were added: every line of the old file is still there, in order.
    kept = iter(authorless.read_text(encoding="utf-8").splitlines())
    assert all(any(line == other for other in kept) for line in before[authorless].splitlines())
    moved = yamlfile.load(renamed).data
    assert moved["title"] == "Where multimodal LLMs look: visual attention across layers"
    assert moved["aliases"] == ["Where multimodal LLMs look: attention to image tokens across layers"]
    assert run_kb("validate", cwd=curated_root).returncode == 0


def test_refresh_never_overwrites_stated_facts(curated_root: Path, run_kb, services: Services) -> None:
    path = curated_root / "papers" / "2501.00103.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "year: 2025", "authors: [Cy Curated]\nyear: 2025\nvenue: KB Test Venue 2025"
        ),
        encoding="utf-8",
    )
    services.papers = {
        "2501.00103": Entry(
            "2501.00103",
            "A benchmark of object hallucination in large vision-language models",
            "x",
            "2025-01-05",
            journal_ref="Another Venue 2026",
        )
    }
    text = path.read_text(encoding="utf-8")
    out = run_kb("refresh", "--all", "--write", cwd=curated_root, env=services.env())
    assert out.returncode == 0, out.stderr
    assert "arXiv lists 2 authors (Ada Example, Bo Tester), the record 1 (Cy Curated); left as it is" in out.stderr
    data = yamlfile.load(path).data
    assert (
        data["authors"] == ["Cy Curated"]
        and data["venue"] == "KB Test Venue 2025"
        and data["published"] == "2025-01-05"
    )
    assert path.read_text(encoding="utf-8") != text
    # Papers arXiv did not return are reported, not touched.
    assert "papers/2501.00104.yaml: not refreshed: arXiv returned no entry for it" in out.stderr


def test_an_arxiv_outage_writes_nothing(curated_root: Path, run_kb, services: Services) -> None:
    services.arxiv_status = 503
    before = {p.name: p.read_text(encoding="utf-8") for p in (curated_root / "papers").iterdir()}
    out = run_kb("refresh", "--all", "--write", cwd=curated_root, env=services.env())
    assert out.returncode == 1 and out.stderr.strip().splitlines()[-1].startswith("kb: ") and "HTTP 503" in out.stderr
    assert {p.name: p.read_text(encoding="utf-8") for p in (curated_root / "papers").iterdir()} == before
