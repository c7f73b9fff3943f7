"""How well the learned discovery model (`kb.search.relevance`) ranks, measured on papers it had not seen.

    python benchmarks/discovery_learned.py [--root KB] [--bulk ../shared/corpus/arxiv-llm-papers.jsonl.gz] [--show 50]

Trains exactly as `kb discover FILE --train` does (without writing the model) and prints:
- the cross-validated ROC AUC and precision of the top 50 on the records and triaged papers of the file;
- `kb watch` on the bulk file treated as a listing: which papers would reach the threshold with their
  out-of-fold probability (so no paper is scored by a model that saw it), split into records, triaged papers
  and papers never judged; the precision on the judged ones;
- the top new (never judged) papers by out-of-fold probability, for a person to read.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kb.artefacts import Inputs
from kb.project import Project
from kb.search import relevance

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument(
        "--bulk", type=Path, default=HERE.parent.parent / "shared" / "corpus" / "arxiv-llm-papers.jsonl.gz"
    )
    parser.add_argument("--show", type=int, default=50)
    args = parser.parse_args()
    inputs = Inputs(Project.find(args.root))
    start = time.perf_counter()
    result = relevance.train(inputs, args.bulk)
    seconds = time.perf_counter() - start
    info = result.model.info
    metrics = info["metrics"]
    print(
        f"trained in {seconds:.0f} s on {info['positives']} records, {info['negatives']} triaged and {info['unlabelled']} other papers"
    )
    print(
        f"cross-validated ROC AUC {metrics['cv_roc_auc']:.4f}; precision of the top 50 {metrics['cv_precision_top50']:.2f}, "
        f"top 200 {metrics['cv_precision_top200']:.2f}"
    )
    threshold = result.model.threshold
    above = [i for i, p in result.out_of_fold.items() if p >= threshold]
    kinds = {k: sum(1 for i in above if result.labels[i] == k) for k in (1, 0, -1)}
    judged = kinds[1] + kinds[0]
    print(
        f"\nkb watch on the file as a listing (threshold {threshold:.3f}): {len(above)} drafts: {kinds[1]} records, "
        f"{kinds[0]} triaged, {kinds[-1]} never judged; precision on the judged {kinds[1] / max(judged, 1):.2f}; "
        f"recall of the records {kinds[1] / max(info['positives'], 1):.2f}"
    )
    new = sorted((i for i, k in result.labels.items() if k == -1), key=lambda i: -result.out_of_fold[i])[: args.show]
    titles = {}
    from kb.search.bulk import plain_id, read_bulk

    for raw, title, _ in read_bulk(args.bulk):
        titles.setdefault(plain_id(raw), title)
    print(f"\ntop {args.show} never-judged papers by out-of-fold probability:")
    for rank, paper_id in enumerate(new, 1):
        print(f"{rank:3}. {result.out_of_fold[paper_id]:.3f} {paper_id:12} {titles[paper_id][:110]}")


if __name__ == "__main__":
    main()
