"""Times each xai method on the cached toy model: milliseconds per explained example (2 threads).

Run: python benchmarks/xai_methods.py   (trains the toy model into build/xai/ first if it is not cached)
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from kb.xai import toy_model, toy_task
from kb.xai.adapters import LlavaAdapter
from kb.xai.benchmark import methods, toy_task_inputs

EXAMPLES = 10


def main() -> None:
    torch.set_num_threads(2)
    root = Path(__file__).resolve().parents[1]
    started = time.perf_counter()
    cached = toy_model.load_or_train(root / "build" / "xai")
    print(f"toy model {'trained' if cached.trained else 'loaded'} in {time.perf_counter() - started:.1f} s")
    adapter = LlavaAdapter(cached.model, text_mask_token=toy_task.MASK, image_fill=toy_task.OCCLUSION_FILL)
    batch = toy_task.sample(EXAMPLES, seed=1)
    for method in methods():
        started = time.perf_counter()
        if hasattr(method, "fit"):
            method.fit(adapter, toy_task_inputs())
        if hasattr(method, "mine"):
            method.mine(adapter, toy_task_inputs())
        prepared = time.perf_counter()
        for index in range(EXAMPLES):
            method.explain(adapter, batch.item(index).inputs(), int(batch.answer[index]))
        per_example = (time.perf_counter() - prepared) / EXAMPLES * 1000
        print(f"{method.name:22} prepare {prepared - started:6.2f} s   explain {per_example:8.1f} ms/example")


if __name__ == "__main__":
    main()
