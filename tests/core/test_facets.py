"""The facet registry: a facet is one declaration in taxonomy/facets.yaml plus its vocabulary, and that
declaration reaches the record schema, validation, the database, `kb list`, `kb search`, `kb stats`, the
search documents and the site. The test below adds one to the toy knowledge base and looks everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.errors import ValidationFailed
from kb.facets import RESERVED
from kb.loader import load
from kb.project import Project
from kb.records import Record, json_schema
from kb.taxonomy import load_taxonomy

NEW_FACET = "  - {key: evidence, field: evidence, label: Evidence type, many: true, terms: evidence}\n"
NEW_TERMS = """\
  evidence:
    - {id: causal, name: Causal, description: Interventions that change the model's inputs or internals.}
    - {id: correlational, name: Correlational, description: Observations of what co-occurs with behaviour.}
"""


def add_evidence_facet(root: Path) -> None:
    path = root / "taxonomy" / "facets.yaml"
    text = path.read_text()
    text = text.replace("\nterms:\n", "\n" + NEW_FACET.rstrip("\n") + "\nterms:\n" + NEW_TERMS, 1)
    path.write_text(text)
    record = root / "papers" / "2311.16922.yaml"
    record.write_text(
        record.read_text().replace("contribution: method\n", "contribution: method\nevidence: [causal]\n", 1)
    )


def test_the_record_base_fields_are_the_reserved_names() -> None:
    assert set(Record.model_fields) <= RESERVED
    assert RESERVED - set(Record.model_fields) <= {"added"}  # reserved for a field to come


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (
            "{key: modality, field: modalities,",
            "{key: granularity, field: modalities,",
            "facet 'granularity' is declared twice",
        ),
        (
            "{key: modality, field: modalities,",
            "{key: modality, field: summary,",
            "'summary' is already a record field",
        ),
        (
            "{key: modality, field: modalities,",
            "{key: modality, field: granularity,",
            "'granularity' is already facet 'granularity'",
        ),
        (
            "terms: modality, max: 6}",
            "terms: modalities, max: 6}",
            "no vocabulary 'modalities' under terms: (did you mean 'modality'?)",
        ),
        ("terms: modality, max: 6}", "max: 6}", "give exactly one vocabulary"),
        ("terms: method-families.yaml", "terms: ../secrets.yaml", "is not a vocabulary file name"),
        ("{key: modality,", "{key: Modality!,", "String should match pattern"),
    ],
)
def test_bad_declarations_name_file_line_and_field(toy_root: Path, old: str, new: str, words: str) -> None:
    path = toy_root / "taxonomy" / "facets.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ValidationFailed) as caught:
        load_taxonomy(toy_root / "taxonomy", toy_root)
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith("taxonomy/facets.yaml:") and words in p for p in problems), problems


def test_a_declared_facet_reaches_every_place(search_root: Path, run_kb) -> None:
    toy_root = search_root
    add_evidence_facet(toy_root)
    kb = load(Project(toy_root))
    record = kb.records["2311.16922"]
    # the record model, the schema and validation
    assert record.values("evidence") == ("causal",) and kb.records["2305.10355"].values("evidence") == ()
    schema = json_schema(kb.taxonomy)
    assert schema["properties"]["evidence"]["items"]["enum"] == ["causal", "correlational"]
    assert list(schema["properties"]).index("evidence") < list(schema["properties"]).index("summary")
    assert record.to_data()["evidence"] == ["causal"]
    bad = toy_root / "papers" / "2311.16922.yaml"
    bad.write_text(bad.read_text().replace("evidence: [causal]", "evidence: [casual]"))
    with pytest.raises(ValidationFailed) as caught:
        load(Project(toy_root))
    [problem] = caught.value.problems
    assert (problem.field, problem.line) == (
        "evidence[0]",
        13,
    ) and "unknown evidence type 'casual' (did you mean 'causal'?)" in problem.message
    bad.write_text(bad.read_text().replace("evidence: [casual]", "evidence: [causal]"))
    # the database and kb list (an option made from the declaration; names and ids both work)
    listed = run_kb("list", "--evidence", "Causal", "--json", cwd=toy_root)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == ["2311.16922"] and rows[0]["facets"]["evidence"] == ["causal"]
    assert "--evidence VALUE" in run_kb("list", "--help", cwd=toy_root).stdout
    refused = run_kb("list", "--evidence", "anecdotal", cwd=toy_root)
    assert refused.returncode == 1 and "unknown evidence type 'anecdotal'" in refused.stderr
    # kb stats
    stats = json.loads(run_kb("stats", "--json", cwd=toy_root).stdout)
    assert stats["evidence"] == {"causal": 1, "correlational": 0}
    # the search documents (the facet's words are searchable) and kb search filters
    from kb.artefacts import Inputs
    from kb.search.document import Document

    assert "Causal evidence" in Document.of(record, kb.taxonomy).text
    found = run_kb("search", "contrastive decoding", "--evidence", "causal", "--json", cwd=toy_root)
    assert found.returncode == 0, found.stderr
    assert [h["id"] for h in json.loads(found.stdout)] == ["2311.16922"]
    # the site: chips and filters of area pages, the browser search's papers and filters
    from kb import graph
    from kb.site import area_pages, paper_page, search_assets
    from kb.site.address import doc_url
    from kb.site.context import SiteContext, area_doc, paper_doc
    from kb.search.store import ensure_index

    ctx = SiteContext(kb=kb, graph=graph.build(kb))
    page = paper_page.render(ctx, record).body
    assert 'data-facet="evidence"' in page and ">Causal<" in page and 'href="../../tags/evidence/causal/"' in page
    area_pages.area_page(ctx, "training-inference.inference")
    area = ctx.inserts[area_doc("training-inference.inference")]  # the table, put in after the mkdocs build
    assert '<select class="kb-filter" data-facet="evidence">' in area and 'data-evidence="causal"' in area
    assert 'data-column="evidence"' in area  # a column of its own
    index = ensure_index(Inputs(Project(toy_root), kb))
    assets = search_assets.build(index, kb, {r.id: doc_url(paper_doc(r.id)) for r in kb})
    papers = json.loads(assets.files["papers.json"])["papers"]
    meta = json.loads(assets.files["meta.json"])
    facet = {
        "key": "evidence",
        "label": "Evidence type",
        "values": {"causal": "Causal", "correlational": "Correlational"},
    }
    assert facet in meta["facets"]
    at = meta["facets"].index(facet)
    assert next(p for p in papers if p[0] == "2311.16922")[5][at] == [0]  # the first value: causal
