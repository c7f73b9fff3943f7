"""Time `kb validate` and `kb build` on a generated knowledge base of N records (default 10,000).

    python benchmarks/validate_bench.py [--records 10000] [--keep DIR]

The records are synthetic (slug ids, made-up text) but exercise every field and cross-reference check.
Prints wall times for: validation in-process, `kb validate` as a new process, a first `kb build`, and a
`kb build` with nothing changed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kb import yamlfile  # noqa: E402
from kb.taxonomy import load_taxonomy  # noqa: E402


def generate(root: Path, count: int, seed: int = 0) -> None:
    shutil.copytree(REPO / "taxonomy", root / "taxonomy")
    papers = root / "papers"
    papers.mkdir()
    taxonomy = load_taxonomy(root / "taxonomy")
    rng = random.Random(seed)
    leaves, models = taxonomy.leaves(), taxonomy.facet("model").values()
    families, words = taxonomy.facet("method_family").values(), "attention token neuron layer probe image text visual hallucination decoding".split()
    for i in range(count):
        paper_id = f"synthetic-{i:05d}"
        earlier = [f"synthetic-{j:05d}" for j in rng.sample(range(i), min(i, 3))]
        record = {
            "id": paper_id,
            "title": f"Synthetic paper {i} on " + " ".join(rng.sample(words, 4)),
            "authors": [f"Author {rng.randrange(5000)}" for _ in range(rng.randrange(1, 8))],
            "year": rng.randrange(2016, 2026),
            "venue": rng.choice([None, "Workshop 2025"]),
            "taxonomy": rng.sample(leaves, rng.randrange(1, 3)),
            "granularity": rng.sample(list(taxonomy.facet("granularity").values()), 2),
            "modalities": ["image", "text"],
            "contribution": rng.choice(list(taxonomy.facet("contribution").values())),
            "method_family": rng.sample(families, 2),
            "models_studied": rng.sample(models, 3),
            "summary": " ".join(rng.choice(words) for _ in range(40)) + ".",
            "findings": ["A synthetic finding about " + " ".join(rng.sample(words, 3)) + "."],
            "cites": earlier[:2],
            "builds_on": [{"id": e, "relation": "extends"} for e in earlier[2:]],
        }
        record = {k: v for k, v in record.items() if v is not None}
        (papers / f"{paper_id}.yaml").write_text(yamlfile.dump(record), encoding="utf-8")


def timed(label: str, command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{label} failed:\n{result.stderr[-2000:]}")
    print(f"{label:<34} {elapsed:7.2f} s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="kb-bench-"))
    try:
        started = time.perf_counter()
        generate(root, args.records)
        print(f"generated {args.records:,} records in {time.perf_counter() - started:.1f} s at {root}")
        kb = [sys.executable, "-m", "kb", "--root", str(root)]
        from kb.loader import load
        from kb.project import Project

        started = time.perf_counter()
        load(Project(root))
        print(f"{'validate (in-process)':<34} {time.perf_counter() - started:7.2f} s")
        timed("kb validate (new process)", [*kb, "validate"], root)
        timed("kb build (first)", [*kb, "build"], root)
        timed("kb build (nothing changed)", [*kb, "build"], root)
        timed("kb list --area model (fresh db)", [*kb, "list", "--area", "model"], root)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
