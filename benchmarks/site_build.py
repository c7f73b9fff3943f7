"""Site build time and peak memory for the real corpus and for a generated N-paper corpus (default 5,000).

    python benchmarks/site_build.py [--papers 5000] [--runs 3] [--skip-real] [--keep DIR]

Each build runs `kb site build --no-xai` in a child process; wall time and the child's peak resident memory
(ru_maxrss, measured by a small wrapper process so that builds do not mix) are printed, with medians over
`--runs` runs (the machine is shared: single runs are noisy). Three figures for the synthetic corpus:

- **full build**: everything under build/ is removed except the two caches that depend on the model and
  the texts only (the distilled static model, build/search/base/, and the sentence-transformer vectors of
  the texts, build/search/embeddings/); the database, the search index, the map, the Markdown, the site,
  the spare site and the caches of parses, token ids and rows are all made again;
- **one record changed**: after the last full build, a record's summary is edited and the site rebuilt,
  `--runs` + 1 times; the first of these rebuilds is reported on its own (no spare site exists yet, so
  its 10,000 page folders are made, not taken over: `kb.site.shell.reusing`), the median of the others
  is the figure held to the budget (its text is embedded again, so torch is loaded);
- the first, cold build that embeds all texts is reported once and not timed against the budget.

The synthetic corpus copies the real taxonomy and writes made-up records (titles, people and summaries are
generated words, never third-party text) with the shape of real ones: several authors from a shared pool,
venues, models studied, method families, code links, citations and lineage. `--keep DIR` keeps it (and its
caches) for the next run.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORDS = """attention token visual layer neuron probe saliency relevance gradient hallucination grounding encoder connector
concept feature circuit lens patch caption answer benchmark image video audio object region heatmap decoding prior
language vision alignment projection sparse dictionary steering vector direction head residual stream intervention
causal tracing editing knowledge memory retrieval reasoning chain prompt instruction preference reward uncertainty
calibration faithfulness plausibility evaluation metric dataset annotation human study perturbation occlusion shapley
surrogate explanation rationale counterfactual bias fairness robustness adversarial jailbreak safety refusal pruning
merging compression efficiency latency throughput scene graph spatial temporal motion frame speech sound point cloud
depth medical radiology document chart table text recognition multilingual cultural""".split()
SYLLABLES = "ka lo mi ra ten su vel dor an is ue pha chi ng ro wen lin zh ao ber tal mon sa ki".split()
VENUES = ["CVPR 2024", "ICCV 2025", "ECCV 2024", "NeurIPS 2024", "ICLR 2025", "ICML 2024", "ACL 2024", "EMNLP 2024",
          "Findings of ACL 2025", "AAAI 2025", "TMLR", "IEEE Transactions on Pattern Analysis and Machine Intelligence"]

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
    print("   ", result.stdout.strip().replace("\n", "\n    "))
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    return seconds, peak_kib / 1024


def _name(rng: random.Random) -> str:
    def word(n: int) -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(n)).capitalize()

    return f"{word(2)} {word(rng.randint(2, 3))}"


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
    models = taxonomy.facet("model").values()
    families = taxonomy.facet("method_family").values()
    rng = random.Random(0)
    people = sorted({_name(rng) for _ in range(n)})
    papers = root / "papers"
    papers.mkdir()
    ids = [f"synthetic-{i:05d}" for i in range(n)]
    for i, paper_id in enumerate(ids):
        words = rng.sample(WORDS, 24)
        record: dict[str, object] = {
            "id": paper_id, "title": "Synthetic " + " ".join(words[:7]).capitalize(),
            "authors": rng.sample(people, rng.randint(1, 8)), "year": rng.randint(2016, 2025),
            "taxonomy": rng.sample(leaves, rng.randint(1, 2)), "modalities": ["image", "text"],
            "granularity": [rng.choice(taxonomy.facet("granularity").values())],
            "contribution": rng.choice(taxonomy.facet("contribution").values()),
            "method_family": rng.sample(families, rng.randint(0, 2)),
            "models_studied": rng.sample(models, rng.randint(0, 4)),
            "summary": ("A generated record for the build benchmark about " + " ".join(words[:12]) + ". It studies "
                        + " ".join(words[12:20]) + " and reports " + " ".join(words[20:]) + " across several settings."),
            "findings": ["Generated finding about " + " ".join(words[3:8]) + ".", "Another finding on " + " ".join(words[8:13]) + "."],
            "cites": sorted(set(rng.sample(ids[:i], min(i, 4)))),
        }
        if rng.random() < 0.5:
            record["venue"] = rng.choice(VENUES)
        if rng.random() < 0.3:
            record["links"] = {"code": f"https://example.org/code/{paper_id}"}
        if i and rng.random() < 0.3:
            record["builds_on"] = [{"id": rng.choice(ids[:i]), "relation": "extends"}]
        (papers / f"{paper_id}.yaml").write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")


def clean(root: Path) -> None:
    """Everything derived, except the caches that depend only on the model and the texts."""
    build = root / "build"
    # build/site is a symbolic link to the published build/site.<pid>.<random>/ folder (kb.site.build.publish).
    sites = list(build.glob("site.*"))
    derived = [build / "site", *sites, build / "site-spare", build / "kb.sqlite", build / "search" / "index",
               build / "search" / "tokens", build / "cache", build / "map", root / ".site-src"]
    for path in derived:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.is_symlink() or path.exists():
            path.unlink()


def touch_one(root: Path, run: int) -> None:
    path = root / "papers" / "synthetic-00042.yaml"
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    record["summary"] = record["summary"].split(" Edited")[0] + f" Edited for rebuild number {run} of the benchmark."
    path.write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")


def report(label: str, runs: list[tuple[float, float]]) -> None:
    seconds = statistics.median(s for s, _ in runs)
    peak = statistics.median(p for _, p in runs)
    each = ", ".join(f"{s:.1f} s / {p:.0f} MiB" for s, p in runs)
    print(f"{label}: median {seconds:.1f} s, peak {peak:.0f} MiB ({each})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
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
        if not (root / "build" / "site").is_dir():
            seconds, peak = run_build(root)
            print(f"synthetic {args.papers} papers, cold (embeds every text): {seconds:.1f} s, peak {peak:.0f} MiB")
        full, changed = [], []
        for run in range(args.runs):
            clean(root)
            full.append(run_build(root))
        # Edit, rebuild, edit, rebuild: the first rebuild after a full build has no spare site yet (its page
        # folders are all made); the ones after take the folders of the site before over (kb.site.shell).
        touch_one(root, -1)
        first = run_build(root)
        for run in range(args.runs):
            touch_one(root, run)
            changed.append(run_build(root))
        report(f"synthetic {args.papers} papers, full build", full)
        report(f"synthetic {args.papers} papers, first rebuild after a full build (one record changed)", [first])
        report(f"synthetic {args.papers} papers, one record changed", changed)


if __name__ == "__main__":
    main()
