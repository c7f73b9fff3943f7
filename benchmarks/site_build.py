"""Site build time for the real corpus and for a generated N-paper corpus (default 5,000).

    python benchmarks/site_build.py [--papers 5000] [--skip-real]

The synthetic corpus copies the real taxonomy and writes made-up records (titles and summaries are
generated words, never third-party text) into a temporary folder; nothing is left in the project.
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

import yaml

REPO = Path(__file__).resolve().parents[1]
WORDS = "attention token visual layer neuron probe saliency relevance gradient hallucination grounding encoder connector concept feature circuit lens patch caption answer benchmark image video audio".split()


def run_build(root: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "kb", "site", "build", "--no-xai"], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    print(result.stdout.strip())
    return time.perf_counter() - started


def synthetic(root: Path, n: int) -> None:
    from kb.taxonomy import load_taxonomy

    shutil.copytree(REPO / "taxonomy", root / "taxonomy")
    shutil.copytree(REPO / "site", root / "site")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    cached = REPO / "build" / "search" / "static-model"
    if cached.is_dir():
        shutil.copytree(cached, root / "build" / "search" / "static-model")
    taxonomy = load_taxonomy(root / "taxonomy")
    leaves = taxonomy.leaves()
    rng = random.Random(0)
    papers = root / "papers"
    papers.mkdir()
    ids = [f"synthetic-{i:05d}" for i in range(n)]
    for i, paper_id in enumerate(ids):
        words = rng.sample(WORDS, 8)
        record = {
            "id": paper_id, "title": "Synthetic " + " ".join(words[:6]).capitalize(), "authors": ["Ada Example"], "year": rng.randint(2019, 2025),
            "taxonomy": rng.sample(leaves, rng.randint(1, 2)), "modalities": ["image", "text"], "granularity": [rng.choice(list(taxonomy.facets["granularity"]))],
            "contribution": rng.choice(list(taxonomy.facets["contribution"])),
            "summary": "A generated record for the build benchmark about " + " ".join(words) + ", with enough words to pass validation easily.",
            "findings": ["Generated finding about " + " ".join(words[:3]) + "."],
            "cites": sorted(set(rng.sample(ids[:i], min(i, 3)))),
        }
        (papers / f"{paper_id}.yaml").write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args()
    if not args.skip_real:
        print(f"real corpus: {run_build(REPO):.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        root.mkdir()
        synthetic(root, args.papers)
        print(f"synthetic {args.papers} papers: {run_build(root):.1f} s")


if __name__ == "__main__":
    main()
