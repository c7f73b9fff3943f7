"""Citation files a reference manager reads: BibTeX types through pybtex, CSL-JSON through citeproc-py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb import export, venues
from kb.loader import load
from kb.project import Project


@pytest.mark.parametrize(("text", "kind", "series", "journal", "year"), [
    ("CVPR 2024", "conference", "CVPR", None, 2024),
    ("Findings of ACL 2025", "conference", "Findings of ACL", None, 2025),
    ("NIPS 2017", "conference", "NeurIPS", None, 2017),
    ("CVPR 2025 Workshop on Mechanistic Interpretability for Vision", "workshop", "CVPR Workshop on Mechanistic Interpretability for Vision", None, 2025),
    ("TMLR", "journal", "TMLR", "Transactions on Machine Learning Research", None),
    ("Information Sciences (2025)", "journal", "Information Sciences", "Information Sciences", 2025),
    ("eXCV Workshop (non-proceedings track)", None, "eXCV Workshop", None, None),
    ("QUESTION 2025 (poster)", None, "QUESTION", None, 2025),
])
def test_venue_kind_and_series(text: str, kind: str | None, series: str, journal: str | None, year: int | None) -> None:
    venue = venues.parse(text)
    assert (venue.kind, venue.series, venue.journal, venue.year) == (kind, series, journal, year)


def test_bibtex_types_read_by_pybtex_and_csl_by_citeproc(toy_root: Path) -> None:
    pybtex = pytest.importorskip("pybtex.database")
    path = toy_root / "papers" / "2410.04819.yaml"
    path.write_text(path.read_text().replace("year: 2024\n", "year: 2024\nvenue: TMLR 2025\n"))
    kb = load(Project(toy_root))
    entries = pybtex.parse_string(export.export(kb, "bibtex"), "bibtex").entries
    by_id = {entry.fields.get("eprint"): entry for entry in entries.values()}
    cvpr = by_id["2311.16922"]  # venue: CVPR 2024
    assert cvpr.type == "inproceedings" and cvpr.fields["booktitle"] == "CVPR 2024" and cvpr.fields["year"] == "2024"
    tmlr = by_id["2410.04819"]
    assert tmlr.type == "article" and tmlr.fields["journal"] == "Transactions on Machine Learning Research"
    assert tmlr.fields["year"] == "2025"
    assert by_id["2305.10355"].type == "misc"  # no venue: an arXiv preprint
    items = {item["id"]: item for item in json.loads(export.export(kb, "csl-json"))}
    assert items["2311.16922"]["type"] == "paper-conference" and items["2311.16922"]["container-title"] == "CVPR 2024"
    assert "publisher" not in items["2311.16922"]
    assert items["2410.04819"]["type"] == "article-journal"
    assert items["2305.10355"]["type"] == "article" and items["2305.10355"]["publisher"] == "arXiv"

    citeproc = pytest.importorskip("citeproc")
    from citeproc.source.json import CiteProcJSON

    source = CiteProcJSON([items["2311.16922"], items["2305.10355"]])
    style = citeproc.CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = citeproc.CitationStylesBibliography(style, source, citeproc.formatter.plain)
    for key in ("2311.16922", "2305.10355"):
        bibliography.register(citeproc.Citation([citeproc.CitationItem(key)]))
    rendered = [str(entry) for entry in bibliography.bibliography()]
    conference = next(text for text in rendered if "Contrastive Decoding" in text)
    assert "CVPR 2024" in conference and "Preprint" not in conference and "arXiv" not in conference
    preprint = next(text for text in rendered if "Evaluating Object Hallucination" in text)
    assert "arXiv" in preprint
