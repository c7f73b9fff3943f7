"""Ranking quality of the search: nDCG@10 and Recall@10 of each ranker on the information needs.

    python benchmarks/search_quality.py [--root KB] [--needs FILE ...] [--json]

Relevant ids without a record in the knowledge base are ignored; needs left with none are skipped.
The `dense` ranker imports torch and embeds every record once (cached in build/search/embeddings).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import yaml

from kb.artefacts import Inputs
from kb.project import Project
from kb.search.ranking import RANKERS, Searcher

HERE = Path(__file__).resolve().parent
DEFAULT_NEEDS = [HERE.parent / "tests" / "search" / "data" / "needs.yaml", HERE.parent / "tests" / "search" / "data" / "heldout.yaml"]
K = 10


def read_needs(path: Path) -> list[tuple[str, list[str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(str(n["query"]), [str(i) for i in n["relevant"]]) for n in data]


def ndcg(ranked: list[str], relevant: set[str], k: int = K) -> float:
    gain = sum(1 / math.log2(i + 2) for i, pid in enumerate(ranked[:k]) if pid in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gain / ideal if ideal else 0.0


def recall(ranked: list[str], relevant: set[str], k: int = K) -> float:
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def evaluate(searcher: Searcher, needs: list[tuple[str, list[str]]], ranker: str) -> dict[str, float]:
    present = set(searcher.index.ids)
    rows = []
    for query, relevant in needs:
        judged = set(relevant) & present
        if not judged:
            continue
        ranked = [h.id for h in searcher.search(query, K, ranker=ranker)]
        rows.append((ndcg(ranked, judged), recall(ranked, judged)))
    if not rows:
        return {"needs": 0, "ndcg@10": 0.0, "recall@10": 0.0}
    return {"needs": len(rows), "ndcg@10": round(sum(r[0] for r in rows) / len(rows), 3),
            "recall@10": round(sum(r[1] for r in rows) / len(rows), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--needs", type=Path, nargs="*", default=DEFAULT_NEEDS)
    parser.add_argument("--rankers", nargs="*", default=["bm25", "dense", "static", "hybrid"], choices=RANKERS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    searcher = Searcher.open(Inputs(Project.find(args.root)))
    results = {path.stem: {r: evaluate(searcher, read_needs(path), r) for r in args.rankers} for path in args.needs}
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return
    print(f"{len(searcher.index.ids)} records")
    for name, table in results.items():
        print(f"\n{name} | ranker | needs | nDCG@10 | Recall@10")
        for ranker, row in table.items():
            print(f"  {ranker:8} | {row['needs']:5} | {row['ndcg@10']:.3f} | {row['recall@10']:.3f}")


if __name__ == "__main__":
    main()
