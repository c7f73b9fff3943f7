"""Run time and peak memory of every method on a tiny checkpoint of every family, through `kb xai explain`.

Each (family, method) runs in a fresh process (`kb xai explain` as a user types it), so its peak resident
memory is its own; the figure includes the ~0.4-0.5 GB that importing torch and transformers costs.
Times are medians of --repeat runs, wall clock on whatever cores the machine gives (2 shared here).

Run: python benchmarks/xai_methods.py [--size 64] [--repeat 1] [--dtype float32]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("llava", "llava_next", "qwen2_vl", "qwen2_5_vl")
CHILD = """
import resource, sys, time
from click.testing import CliRunner
from kb.cli import app
started = time.perf_counter()
result = CliRunner().invoke(app, sys.argv[1:], catch_exceptions=False)
seconds = time.perf_counter() - started
print("RESULT", result.exit_code, round(seconds, 3), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=64, help="side of the square test image in pixels")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--families", default=",".join(FAMILIES))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from kb.xai import tiny
    from kb.xai.catalog import METHODS

    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as folder:
        image = Path(folder) / "image.png"
        Image.new("RGB", (args.size, args.size), (200, 60, 30)).save(image)
        rows = []
        for family in args.families.split(","):
            checkpoint = tiny.save(family, Path(folder) / family)
            for method in METHODS:
                times, peaks = [], []
                for _ in range(args.repeat):
                    command = [sys.executable, "-c", CHILD, "xai", "explain", "--model", str(checkpoint), "--image", str(image),
                               "--prompt", "What colour?", "--target", "red", "--method", method.name, "--dtype", args.dtype,
                               "--out", str(Path(folder) / "o.png")]
                    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
                    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
                    if line is None:
                        raise SystemExit(out.stderr)
                    _, code, seconds, peak = line.split()
                    times.append(float(seconds))
                    peaks.append(int(peak))
                rows.append({"family": family, "method": method.name, "seconds": statistics.median(times), "peak_mib": max(peaks)})
                print(f"{family:11} {method.name:22} {rows[-1]['seconds']:8.2f} s  {rows[-1]['peak_mib']:6d} MiB", flush=True)
    print(json.dumps({"size": args.size, "dtype": args.dtype, "when": time.strftime("%Y-%m-%d"), "rows": rows}))


if __name__ == "__main__":
    main()
