"""Quality of `kb discover` on a bulk arXiv file: where the knowledge base's own papers land.

    python benchmarks/search_discover.py [--root KB] [--bulk ../shared/corpus/arxiv-llm-papers.jsonl.gz] [--show 30]

A paper already in the knowledge base is scored with its own record left out of its neighbours, so its
rank says whether discovery would have found it. Prints the top new papers for a human to judge.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kb.artefacts import Inputs
from kb.project import Project
from kb.search.discover import discover

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--bulk", type=Path, default=HERE.parent.parent / "shared" / "corpus" / "arxiv-llm-papers.jsonl.gz")
    parser.add_argument("--show", type=int, default=30)
    args = parser.parse_args()
    inputs = Inputs(Project.find(args.root))
    kb = inputs.kb
    start = time.perf_counter()
    ranked = discover(inputs, args.bulk)
    seconds = time.perf_counter() - start
    known = [i for i, c in enumerate(ranked) if c.known]
    print(f"{len(ranked)} papers ranked in {seconds:.1f} s; {len(known)} of the {len(kb)} records are in the file")
    for cut in (100, 500, 1000):
        print(f"  records ranked in the top {cut}: {sum(1 for i in known if i < cut)}")
    print(f"\ntop {args.show} new papers:")
    for rank, c in enumerate([c for c in ranked if not c.known][: args.show], 1):
        print(f"{rank:3}. {c.score:.3f} {c.id:12} [{c.area}] {c.title[:110]}")


if __name__ == "__main__":
    main()
