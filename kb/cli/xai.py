"""Commands for the explainability methods: `kb xai list`, `explain`, `tiny-model` and `bench`.

torch and transformers are imported only inside the commands; every expected failure (unknown method,
unsupported architecture, unreadable image, rejected prompt) becomes one `kb:` line through KbError.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from kb.cli import app, project_of
from kb.errors import KbError


def _need_xai(command: str) -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise KbError(f"{command} needs the xai extra ({exc.name} is missing): pip install -e '.[xai]'") from exc


@app.group()
def xai() -> None:
    """Reference implementations of MLLM explainability methods and their ground-truth benchmark."""


@xai.command("list")
def list_methods() -> None:
    """The implemented methods, the paper each comes from, and where the code lives."""
    from kb.xai.catalog import METHODS

    for method in METHODS:
        click.echo(f"{method.name:22} {method.paper_id:11} {method.implementation}")


@xai.command("tiny-model")
@click.argument("family")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--vision-feature-select-strategy",
    "strategy",
    type=click.Choice(["default", "full"]),
    default="default",
    show_default=True,
    help="LLaVA only: 'full' also hands the CLS token to the projector.",
)
def tiny_model(family: str, folder: Path, seed: int, strategy: str) -> None:
    """Write a tiny random checkpoint of FAMILY (llava, llava_next, qwen2_vl, qwen2_5_vl) with its processor to
    FOLDER."""
    _need_xai("kb xai tiny-model")
    from kb.xai import tiny

    if family not in tiny.FAMILIES:
        raise KbError(f"unknown family '{family}' (supported: {', '.join(tiny.FAMILIES)})")
    if strategy != "default" and family != "llava":
        raise KbError("--vision-feature-select-strategy applies to the llava family only")
    tiny.save(family, folder, seed=seed, strategy=strategy)
    click.echo(f"wrote a tiny {family} checkpoint to {folder}")


@xai.command()
@click.option("--model", "source", required=True, help="A checkpoint folder or a hub id (loaded offline if cached).")
@click.option("--image", "image_path", required=True, help="The image file.")
@click.option("--prompt", required=True, help="The question; kb places the image and applies the chat template.")
@click.option("--target", default=None, help="The answer to explain (default: the model's own greedy answer).")
@click.option("--method", "method_name", required=True, help="A method name from `kb xai list`.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("overlay.png"),
    show_default=True,
    help="The overlay PNG; the scores go beside it as JSON (same name, .json).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON instead of a summary.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--dtype", type=click.Choice(["float32", "bfloat16"]), default="float32", show_default=True)
@click.option("--memory-mb", type=int, default=None, help="Memory bound per chunk of perturbed inputs (default 1024).")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="A method parameter, e.g. --set permutations=8 for mm_shap (repeatable).",
)
def explain(
    source: str,
    image_path: str,
    prompt: str,
    target: str | None,
    method_name: str,
    out: Path,
    as_json: bool,
    device: str,
    dtype: str,
    memory_mb: int | None,
    settings: tuple[str, ...],
) -> None:
    """Explain a model's answer to PROMPT about IMAGE with one method: an overlay PNG and a JSON of scores."""
    _need_xai("kb xai explain")
    from kb.xai.catalog import BY_NAME

    if method_name not in BY_NAME:
        raise KbError(f"unknown method '{method_name}' (known: {', '.join(sorted(BY_NAME))})")
    options = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise KbError(f"--set takes KEY=VALUE, not '{setting}'")
        options[key.strip()] = value.strip()
    image = _read_image(image_path)
    report = _Progress()
    eager = BY_NAME[method_name].eager
    if eager:
        report(f"{method_name} reads attention weights (or a 4D mask): eager attention requested")
    data, picture = _run(source, image, prompt, target, method_name, device, dtype, memory_mb, eager, options, report)
    data["image"] = image_path
    from kb import atomic

    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(out) as temp:
        picture.save(temp, format="PNG")
    atomic.write_text(out.with_suffix(".json"), json.dumps(data, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    answer = "".join(data["target"]["tokens"])
    click.echo(
        f"{method_name} on {data['architecture']} ({dtype}, {device}): explained {answer!r}"
        f"{' (the model answer)' if data['target']['generated'] else ''}"
    )
    click.echo(f"wrote {out} and {out.with_suffix('.json')}")


def _read_image(path: str) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            return opened.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise KbError(f"cannot read image {path}: {exc}") from exc


class _Progress:
    """Progress lines on stderr, at most one a second after the first, so long work shows it is alive."""

    def __init__(self) -> None:
        self.last = 0.0
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        now = time.perf_counter()
        if now - self.last >= 1.0:
            click.echo(f"[{now - self.started:6.1f} s] {message}", err=True)
            self.last = now


def _run(
    source: str,
    image: Any,
    prompt: str,
    target: str | None,
    method_name: str,
    device: str,
    dtype: str,
    memory_mb: int | None,
    eager: bool,
    options: dict[str, str],
    report: _Progress,
) -> tuple[dict[str, Any], Any]:
    from kb.xai import explainer, loading, overlay, scoring
    from kb.xai.adapters import UnsupportedModel
    from kb.xai.catalog import BY_NAME

    try:
        explainer.method_instance(method_name, options)  # a bad --set fails before the model loads
        report(f"loading {source}")
        loaded = loading.load(
            source, device=device, dtype=dtype, eager=eager, memory_bytes=(memory_mb << 20) if memory_mb else None
        )
        if loaded.processor_note:
            report(loaded.processor_note)
        with scoring.reporting(lambda done, total: report(f"{method_name}: {done}/{total} variants")):
            result = explainer.explain(
                loaded, image, prompt, method_name, target=target, options=options, progress=report
            )
    except (loading.LoadError, UnsupportedModel, explainer.PromptError, explainer.UnknownMethod) as exc:
        raise KbError(str(exc)) from exc
    family = loaded.adapter.family
    box = overlay.grid_box(family, loaded.processor.image_processor, image.width, image.height)
    data: dict[str, Any] = {
        "model": source,
        "architecture": loaded.architecture,
        "method": method_name,
        "paper_id": BY_NAME[method_name].paper_id,
        "device": device,
        "dtype": dtype,
        "eager_attention": eager,
        "settings": options,
        "target": {"tokens": result.target_tokens, "token_ids": result.target_ids, "generated": result.generated},
        "text_tokens": [
            {"position": p, "token": t, "score": result.text[i] if result.text is not None else None}
            for i, (p, t) in enumerate(zip(result.text_positions, result.text_tokens, strict=True))
        ],
        "extras": result.extras,
    }
    if result.image is None:  # VCD: no map; the overlay shows the image and the noised image it contrasts with
        import numpy as np
        from PIL import Image

        noisy = np.clip(
            np.asarray(image, dtype=np.float64) / 255
            + np.random.default_rng(0).normal(0, 0.5, (image.height, image.width, 3)),
            0,
            1,
        )
        data.update({"grid": None, "image_scores": None, "pixel_box": None})
        return data, overlay.side_by_side(image, Image.fromarray((noisy * 255).astype(np.uint8)))
    scores = result.image.numpy()
    data.update(
        {
            "grid": list(scores.shape),
            "image_scores": scores.round(6).tolist(),
            "pixel_box": [round(v, 2) for v in box],
            "per_token_image_scores": [
                e.image.numpy().round(6).tolist() for e in result.per_token if e.image is not None
            ],
        }
    )
    return data, overlay.render(image, scores, box)


@xai.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option(
    "--write",
    "write_results",
    is_flag=True,
    help="Run the benchmark and store the table in kb/xai/results/ (committed data).",
)
@click.option("--seeds", default="0,1,2", show_default=True, help="Model seeds to run (with --write).")
@click.option(
    "--architectures", default="llava,qwen2_vl", show_default=True, help="Toy architectures to run (with --write)."
)
@click.option("--examples", type=int, default=None, help="Examples per model seed (with --write; default 200).")
@click.option(
    "--cached-only", is_flag=True, help="With --write: summarise the runs already in build/xai/runs/, run nothing."
)
@click.pass_context
def bench(
    ctx: click.Context,
    as_json: bool,
    write_results: bool,
    seeds: str,
    architectures: str,
    examples: int | None,
    cached_only: bool,
) -> None:
    """The faithfulness table of every method on toy models with known evidence (reads kb/xai/results/; --write
    recomputes it)."""
    from kb.xai import report
    from kb.xai.benchmark import EXAMPLES, read

    if write_results:
        _need_xai("kb xai bench --write")
        results = _write(
            project_of(ctx),
            [int(s) for s in seeds.split(",") if s.strip()],
            [a.strip() for a in architectures.split(",") if a.strip()],
            examples or EXAMPLES,
            cached_only,
        )
    else:
        loaded = read()
        if loaded is None:
            raise KbError("no benchmark results in kb/xai/results/ (run kb xai bench --write)")
        results = loaded
    if as_json:
        click.echo(json.dumps({k: v for k, v in results.items() if k != "figures"}, indent=1))
        return
    provenance = results.get("provenance", {})
    click.echo(
        f"{results['examples_per_seed']} examples x seeds {results['seeds']} per toy model; pooled mean [95% bootstrap"
        f" interval]; commit {provenance.get('commit', '?')[:10]}"
    )
    for line in report.table_lines(results):
        click.echo(line)
    click.echo(
        "pointing game chance 1/16 = 0.06, localisation AUC chance 0.5; lower deletion and higher insertion AUC are"
        " better."
    )
    sys.stdout.flush()


def _write(
    project: Any, seeds: list[int], architectures: list[str], examples: int, cached_only: bool = False
) -> dict[str, Any]:
    from kb.xai import benchmark, toy_model

    for arch in architectures:
        if arch not in toy_model.ARCHITECTURES:
            raise KbError(f"unknown toy architecture '{arch}' (known: {', '.join(toy_model.ARCHITECTURES)})")
    report = _Progress()
    cache = project.build_dir / "xai"
    if cached_only:
        runs = [
            run
            for arch in architectures
            for seed in seeds
            if (run := benchmark.cached_run(arch, seed, cache, examples)) is not None
        ]
        if not runs:
            raise KbError(f"no cached benchmark runs in {cache / 'runs'} for these seeds and architectures")
    else:
        runs = [
            benchmark.run_model(arch, seed, cache, examples=examples, progress=report)
            for arch in architectures
            for seed in seeds
        ]
    results = benchmark.summarise(runs)
    done_seeds = sorted({r["seed"] for r in runs})
    results["provenance"] = benchmark.provenance(
        done_seeds, sorted({r["architecture"] for r in runs}, key=architectures.index), examples
    )
    results["provenance"]["runs"] = [f"{r['architecture']}-{r['seed']}" for r in runs]
    path = benchmark.write(results)
    click.echo(f"wrote {path}", err=True)
    return results
