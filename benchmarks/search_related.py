"""How sensible `kb related` is: for each record, the share of its 5 nearest papers that share a leaf
area with it, and how many curated lineage edges (builds_on, either direction) land in the top 5.

    python benchmarks/search_related.py [--root KB] [-k 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kb.artefacts import Inputs
from kb.project import Project
from kb.search.related import related_all
from kb.search.store import ensure_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()
    inputs = Inputs(Project.find(args.root))
    kb = inputs.kb
    index = ensure_index(inputs)
    start = time.perf_counter()
    table = related_all(index, args.k)
    seconds = time.perf_counter() - start
    shared = [len(set(kb.records[o].taxonomy) & set(kb.records[p].taxonomy)) > 0 for p, near in table.items() for o, _ in near]
    edges = {(r.id, e.id) for r in kb for e in r.builds_on}
    edges |= {(b, a) for a, b in edges}
    found = sum(1 for p, near in table.items() for o, _ in near if (p, o) in edges)
    print(f"related_all for {len(table)} records in {seconds:.2f} s (index current)")
    print(f"  neighbours sharing a leaf area: {sum(shared) / max(len(shared), 1):.3f}")
    print(f"  lineage edges recovered in the top {args.k}: {found} of {len(edges)} (counted both ways)")


if __name__ == "__main__":
    main()
