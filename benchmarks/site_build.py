"""Site build time for the real corpus and for a generated N-paper corpus (default 5,000).

    python benchmarks/site_build.py [--papers 5000] [--skip-real] [--keep DIR]

Each build runs `kb site build --no-xai` in a child process; wall time and the child's peak resident
memory (ru_maxrss, measured by a small wrapper process so the builds do not mix) are printed. The
distilled static model (build/search/base/, ~45 s of torch once) is copied from the project;
the synthetic records' transformer vectors are not, so the first synthetic build embeds them all
(~20 texts a second); `--keep DIR` keeps the synthetic corpus so a second run measures a warm rebuild.

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


MEASURE = """import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def run_build(root: Path) -> tuple[float, float]:
    """Seconds and peak MiB of one `kb site build --no-xai` in `root`."""
    started = time.perf_counter()
    command = [sys.executable, "-c", MEASURE, sys.executable, "-m", "kb", "site", "build", "--no-xai"]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    print(result.stdout.strip())
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    return seconds, peak_kib / 1024


def synthetic(root: Path, n: int) -> None:
    from kb.taxonomy import load_taxonomy

    shutil.copytree(REPO / "taxonomy", root / "taxonomy")
    shutil.copytree(REPO / "site", root / "site")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    cached = REPO / "build" / "search" / "base"
    if (cached / "manifest.json").is_file():
        shutil.copytree(cached, root / "build" / "search" / "base")
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
            "taxonomy": rng.sample(leaves, rng.randint(1, 2)), "modalities": ["image", "text"], "granularity": [rng.choice(list(taxonomy.facet("granularity").values()))],
            "contribution": rng.choice(list(taxonomy.facet("contribution").values())),
            "summary": "A generated record for the build benchmark about " + " ".join(words) + ", with enough words to pass validation easily.",
            "findings": ["Generated finding about " + " ".join(words[:3]) + "."],
            "cites": sorted(set(rng.sample(ids[:i], min(i, 3)))),
        }
        (papers / f"{paper_id}.yaml").write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="build the synthetic corpus here and keep it (reused when present)")
    args = parser.parse_args()
    if not args.skip_real:
        seconds, peak = run_build(REPO)
        print(f"real corpus: {seconds:.1f} s, peak {peak:.0f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "kb"
        if not (root / "papers").is_dir():
            root.mkdir(parents=True, exist_ok=True)
            synthetic(root, args.papers)
        seconds, peak = run_build(root)
        print(f"synthetic {args.papers} papers: {seconds:.1f} s, peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
