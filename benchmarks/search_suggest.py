"""Leave-one-out accuracy of `kb suggest`: every record is suggested for as if it were new, from its
title and abstract (from ../shared/corpus, the reference lists and the bulk file, when present, else from its own summary), with itself left
out of the neighbours.

    python benchmarks/search_suggest.py [--root KB] [--corpus ../shared/corpus]

Caveat: the record still counts in the static model's IDF weights and in BM25's document frequencies.

With --learned, areas also blend in the per-area classifiers of the discovery model (`kb.search.relevance`),
retrained in FOLDS folds so that no record is scored by classifiers that saw it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kb.artefacts import Inputs
from kb.project import Project
from kb.search.ranking import Searcher
from kb.search.suggest import suggest

HERE = Path(__file__).resolve().parent


def abstracts(corpus: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("candidates.jsonl", "foundations.jsonl"):
        path = corpus / name
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                out[row["arxiv_id"]] = row.get("abstract") or ""
    bulk = corpus / "arxiv-llm-papers.jsonl.gz"
    if bulk.is_file():
        from kb.search.bulk import plain_id, read_bulk

        for raw, _, abstract in read_bulk(bulk):
            out.setdefault(plain_id(raw), abstract)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    parser.add_argument("--learned", action="store_true", help="blend in per-area classifiers, cross-validated")
    args = parser.parse_args()
    inputs = Inputs(Project.find(args.root))
    kb = inputs.kb
    searcher = Searcher.open(inputs)
    texts = abstracts(args.corpus)
    hits: dict[str, list[int]] = {
        k: []
        for k in (
            "area@1",
            "area@2",
            "area@3",
            "contribution@1",
            "modality@1",
            "granularity@1",
            "method_family@1",
            "method_family@3",
            "model@1",
        )
    }
    from_abstract = 0
    learned = _cross_validated(inputs, texts) if args.learned else {}
    for record in kb:
        abstract = texts.get(record.id) or record.summary
        from_abstract += record.id in texts
        result = suggest(searcher, kb, record.title, abstract, exclude=record.id, learned=learned.get(record.id))
        top = [a for a, _ in result.areas]
        hits["area@1"].append(bool(top[:1]) and top[0] in record.taxonomy)
        hits["area@2"].append(bool(set(top[:2]) & set(record.taxonomy)))
        hits["area@3"].append(bool(set(top[:3]) & set(record.taxonomy)))
        truth = {facet.key: record.values(facet.key) for facet in kb.taxonomy.registry}
        for facet, values in truth.items():
            if not values:
                continue
            ranked = [v for v, _ in result.facets[facet]]
            hits[f"{facet}@1"].append(bool(ranked[:1]) and ranked[0] in values)
            if f"{facet}@3" in hits:
                hits[f"{facet}@3"].append(bool(set(ranked[:3]) & set(values)))
    print(f"{len(kb)} records ({from_abstract} suggested from their arXiv abstract, the rest from their summary)")
    for name, values in hits.items():
        print(f"  {name:18} {sum(values) / max(len(values), 1):.3f}  (n={len(values)})")


FOLDS = 10


def _cross_validated(inputs: Inputs, texts: dict[str, str]) -> dict[str, object]:
    """Record id -> an area suggester trained without the record's fold."""
    from kb.search.relevance import AreaSuggester, train_areas
    from kb.search.static import base_encoder

    kb = inputs.kb
    encoder = base_encoder(inputs.artefacts.search_base)
    full = {r.id: f"{r.title}. {texts[r.id]}" for r in kb if r.id in texts}
    ids = sorted(r.id for r in kb)
    out: dict[str, object] = {}
    for fold in range(FOLDS):
        held = set(ids[fold::FOLDS])
        suggester = AreaSuggester(train_areas(kb, full, encoder, leave_out=held), encoder)
        out.update({i: suggester for i in held})
    return out


if __name__ == "__main__":
    main()
