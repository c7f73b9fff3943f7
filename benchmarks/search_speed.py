"""Speed and memory of search: cold and warm query latency, index build throughput and peak memory
(for the knowledge base and for a bulk abstracts file), and the incremental rebuild after one change.

    python benchmarks/search_speed.py [--root KB] [--bulk ../shared/corpus/arxiv-llm-papers.jsonl.gz]
                                      [--dense-sample 200] [--json]

Every build step runs in its own process under /usr/bin/time, so peak memory (max RSS) is per step.
Embedding all bulk abstracts with the transformer would take ~25 min on 2 shared cores, so its
throughput is measured on a sample (--dense-sample) and extrapolated; static encoding and BM25 run on all.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = [
    "which methods find neurons that fire only for images?",
    "contrastive decoding against hallucination",
    "sparse autoencoders for vision models",
    "token pruning for faster LLaVA inference",
    "Grad-CAM",
]


def timed(code: str, cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak MiB, stdout) of `python -c code`."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "@@%e %M", sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    seconds, kib = out.stderr.rsplit("@@", 1)[1].split()
    return float(seconds), int(kib) / 1024, out.stdout


def cold_latency(root: Path, runs: int = 5) -> dict[str, float]:
    kb = [str(Path(sys.executable).parent / "kb")]
    subprocess.run([*kb, "search", "warm up the index", "--json"], cwd=root, capture_output=True, check=True)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        subprocess.run([*kb, "search", QUERIES[i % len(QUERIES)], "--json"], cwd=root, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


def warm_latency(root: Path) -> dict[str, float]:
    from kb.artefacts import Inputs
    from kb.project import Project
    from kb.search.ranking import Searcher

    searcher = Searcher.open(Inputs(Project(root)))
    searcher.search("warm up")
    times = []
    for _ in range(10):
        for query in QUERIES:
            start = time.perf_counter()
            searcher.search(query)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95)], 2)}


def corpus_build(root: Path) -> dict[str, float]:
    """A full build from an empty build/search (except the distilled token vectors), then one change."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "kb"
        shutil.copytree(root / "papers", copy / "papers")
        shutil.copytree(root / "taxonomy", copy / "taxonomy")
        shutil.copytree(root / "build" / "search" / "base", copy / "build" / "search" / "base")
        code = (
            "from kb.artefacts import Inputs; from kb.project import Project; from kb.search.store import ensure_index; "
            "print(len(ensure_index(Inputs(Project.find())).ids))"
        )
        seconds, mib, out = timed(code, copy)
        records = int(out.strip())
        result = {
            "records": records,
            "full_build_s": seconds,
            "full_build_docs_per_s": round(records / seconds, 1),
            "full_build_peak_mib": round(mib),
        }
        # Incremental: change one record, then time a cold `kb search` (re-weighs the static model,
        # re-embeds that one record with the transformer, rebuilds the small faiss files).
        record = sorted((copy / "papers").glob("*.yaml"))[0]
        record.write_text(
            record.read_text(encoding="utf-8").replace(
                "summary: >-\n", "summary: >-\n  Changed for the benchmark.\n", 1
            ),
            encoding="utf-8",
        )
        start = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "kb"), "search", "neurons", "--json"],
            cwd=copy,
            capture_output=True,
            check=True,
        )
        result["incremental_cold_search_s"] = round(time.perf_counter() - start, 2)
        seconds, mib, _ = timed(
            "from kb.artefacts import Inputs; from kb.project import Project; from kb.search.ranking import Searcher; "
            "Searcher.open(Inputs(Project.find())).search('neurons')",
            copy,
        )
        result["cold_search_after_rebuild_s"] = seconds
    return result


def bulk_build(root: Path, bulk: Path, sample: int) -> dict[str, float]:
    static_code = f"""
import time, json
from kb.artefacts import Inputs
from kb.search.bulk import read_bulk
from kb.project import Project
from kb.search.store import ensure_index
from kb.search.lexical import Lexical
rows = list(read_bulk(__import__('pathlib').Path({str(bulk)!r})))
texts = [t + '. ' + a for _, t, a in rows]
model = ensure_index(Inputs(Project.find())).encoder
start = time.perf_counter(); vectors = [model.encode(texts[i:i + 2048]) for i in range(0, len(texts), 2048)]; static = time.perf_counter() - start
start = time.perf_counter(); Lexical(texts); lexical = time.perf_counter() - start
print(json.dumps({{"papers": len(texts), "static_s": round(static, 2), "bm25_s": round(lexical, 2)}}))
"""
    seconds, mib, out = timed(static_code, root)
    result = json.loads(out.strip().splitlines()[-1])
    result.update(
        {
            "static_docs_per_s": round(result["papers"] / result["static_s"]),
            "static_bm25_total_s": seconds,
            "static_bm25_peak_mib": round(mib),
        }
    )
    dense_code = f"""
import time, json, itertools
from kb.search.bulk import read_bulk
from kb.search.transformer import encode_dense, load_transformer
rows = list(itertools.islice(read_bulk(__import__('pathlib').Path({str(bulk)!r})), {sample}))
load_transformer()
start = time.perf_counter(); encode_dense([t + '. ' + a for _, t, a in rows]); print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""
    seconds, mib, out = timed(dense_code, root)
    dense = json.loads(out.strip().splitlines()[-1])["seconds"]
    rate = sample / dense
    result.update(
        {
            "dense_sample": sample,
            "dense_docs_per_s": round(rate, 1),
            "dense_all_estimated_min": round(result["papers"] / rate / 60, 1),
            "dense_peak_mib": round(mib),
            "dense_process_s_incl_torch_import": seconds,
        }
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=HERE.parent)
    parser.add_argument(
        "--bulk", type=Path, default=HERE.parent.parent / "shared" / "corpus" / "arxiv-llm-papers.jsonl.gz"
    )
    parser.add_argument("--dense-sample", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = args.root.resolve()
    results = {"cold": cold_latency(root), "warm": warm_latency(root), "corpus_build": corpus_build(root)}
    if args.bulk.is_file():
        results["bulk_build"] = bulk_build(root, args.bulk.resolve(), args.dense_sample)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
