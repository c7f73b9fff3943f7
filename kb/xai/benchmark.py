"""The ground-truth faithfulness benchmark: every method on toy models whose evidence is known by construction.

Two toy architectures (LLaVA, Qwen2-VL) x three model seeds; per model, `EXAMPLES` examples scored on
localisation, deletion / insertion (with a noise fill no method uses), the random-logit test and, for
integrated gradients, completeness; the model-randomisation checks (cascading and independent, signed and
absolute rank correlation) on the first `RANDOMISATION_EXAMPLES`. Every stochastic method draws from a seed
of its own, different for the explained model and for the randomised control, and the random baseline too.

`run_model` scores one (architecture, seed) and caches its per-example values in build/xai/runs/ under a
key covering the code (kb/xai/*.py) and library versions; `summarise` turns runs into the committed table
with bootstrap intervals (per seed, and pooled over seeds) and paired comparisons; `write` stores it with
its provenance in kb/xai/results/, where `kb site build` reads it without training anything.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import Any

from kb import atomic
from kb.xai.catalog import BY_NAME

VERSION = 3
SEEDS = (0, 1, 2)
EXAMPLES = 200
RANDOMISATION_EXAMPLES = 8
RANDOM_LOGIT_EXAMPLES = 50
EVAL_SEED = 2024
FIT_SEED = 4048
MIN_ACCURACY = 0.9
LARGE_ABLATION = 0.25  # MINER switches off ~2%; a quarter shows whether more neurons matter at all
RESULTS = Path(__file__).parent / "results"
METRICS = (
    "pointing_game",
    "relevance_mass",
    "localisation_auc",
    "relevance_rank_accuracy",
    "text_pointing",
    "deletion_auc",
    "insertion_auc",
    "random_logit_similarity",
    "image_share",
    "ig_completeness_error",
)
# Row names beside the catalog's: the token-resolved Grad-CAM variant and the random baseline.
VARIANTS = {"grad_cam_token": "Grad-CAM, token-resolved", "random": "Random scores"}


# The modules a run's numbers depend on (methods, adapters, metrics, toy task and models): the cache key.
# Presentation (report, figures), the CLI path (loading, explainer, overlay, tiny) and the summary are left out,
# so editing them re-uses the runs; a change to how runs are scored bumps VERSION.
SCORED = (
    "activation_map",
    "attention",
    "baseline",
    "decoding",
    "explanation",
    "gradients",
    "hooks",
    "lens",
    "metrics",
    "neurons",
    "patching",
    "perturbation",
    "randomisation",
    "region_search",
    "relevancy",
    "scoring",
    "shapley",
    "toy_model",
    "toy_task",
)


def code_version() -> str:
    """Hash of the scored modules of kb.xai and the library versions: the cache key of runs and the results' stamp."""
    import torch
    import transformers

    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in [*(here / f"{name}.py" for name in SCORED), *sorted((here / "adapters").glob("*.py"))]:
        digest.update(path.read_bytes())
    digest.update(f"torch {torch.__version__} transformers {transformers.__version__}".encode())
    return digest.hexdigest()[:16]


def derived_seed(*parts: object) -> int:
    """A seed of its own for each (architecture, model seed, method, role): no two roles share a stream."""
    return zlib.crc32("/".join(map(str, parts)).encode()) & 0x7FFFFFFF


def methods(seed: int = 0) -> list[Any]:
    """Fresh instances of every attribution method, the token-resolved Grad-CAM and the random baseline."""
    from kb.xai.activation_map import TokenActivationMap
    from kb.xai.attention import AttentionRollout, RawAttention
    from kb.xai.baseline import RandomBaseline
    from kb.xai.gradients import GradCAM, IntegratedGradients
    from kb.xai.lens import LogitLens, TunedLens
    from kb.xai.neurons import ModalityNeurons
    from kb.xai.patching import AttentionKnockout, CausalTracing
    from kb.xai.perturbation import RISE, Occlusion
    from kb.xai.region_search import RegionSearch
    from kb.xai.relevancy import AttentionRelevancy
    from kb.xai.shapley import MMSHAP

    return [
        RawAttention(),
        AttentionRollout(),
        AttentionRelevancy(),
        IntegratedGradients(),
        GradCAM(),
        GradCAM(resolution="token", name="grad_cam_token"),
        Occlusion(),
        RISE(seed=seed),
        MMSHAP(seed=seed),
        LogitLens(),
        TunedLens(),
        CausalTracing(seed=seed),
        AttentionKnockout(),
        ModalityNeurons(),
        TokenActivationMap(),
        RegionSearch(),
        RandomBaseline(seed=seed),
    ]


def fresh(name: str, seed: int) -> Any:
    return next(m for m in methods(seed) if m.name == name)


def adapter_for(model: Any) -> Any:
    from kb.xai import toy_task
    from kb.xai.adapters import for_model

    return for_model(model, text_mask_token=toy_task.MASK, image_fill=toy_task.OCCLUSION_FILL)


def _prepare(method: Any, adapter: Any, fit_inputs: dict[str, Any]) -> Any:
    if hasattr(method, "fit"):
        method.fit(adapter, fit_inputs)
    if hasattr(method, "mine"):
        method.mine(adapter, fit_inputs)
    return method


def run_model(
    architecture: str,
    seed: int,
    cache: Path,
    *,
    examples: int = EXAMPLES,
    randomisation: int = RANDOMISATION_EXAMPLES,
    random_logit: int = RANDOM_LOGIT_EXAMPLES,
    only: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Per-example values of every method on one toy model, cached in cache/runs/ (re-used while the key holds)."""
    key = {
        "version": VERSION,
        "code": code_version(),
        "architecture": architecture,
        "seed": seed,
        "examples": examples,
        "randomisation": randomisation,
        "random_logit": random_logit,
        "only": only,
    }
    path = cache / "runs" / f"{architecture}-{seed}-{examples}.json"
    if path.exists():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            if saved.get("key") == key:
                return saved  # type: ignore[no-any-return]
        except (OSError, ValueError):
            pass  # unreadable: recomputed below
    run = _score(architecture, seed, cache, examples, randomisation, random_logit, only, progress or (lambda _m: None))
    run["key"] = key
    atomic.write_text(path, json.dumps(run))
    return run


def cached_run(architecture: str, seed: int, cache: Path, examples: int = EXAMPLES) -> dict[str, Any] | None:
    """A finished run from cache/runs/ whose key matches the current code, or None."""
    path = cache / "runs" / f"{architecture}-{seed}-{examples}.json"
    key = {
        "version": VERSION,
        "code": code_version(),
        "architecture": architecture,
        "seed": seed,
        "examples": examples,
        "randomisation": RANDOMISATION_EXAMPLES,
        "random_logit": RANDOM_LOGIT_EXAMPLES,
        "only": None,
    }
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return saved if saved.get("key") == key else None


def _score(
    architecture: str,
    seed: int,
    cache: Path,
    examples: int,
    randomisation: int,
    random_logit: int,
    only: list[str] | None,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    import torch

    from kb.xai import metrics, toy_model, toy_task
    from kb.xai import randomisation as scrambling

    torch.set_num_threads(min(2, torch.get_num_threads()))
    started = time.perf_counter()
    cached = toy_model.load_or_train(cache, architecture, seed)
    trained_seconds = time.perf_counter() - started
    model = cached.model
    adapter = adapter_for(model)
    test = toy_task.sample(512, EVAL_SEED)
    row = _model_row(model, architecture, test)
    if row["accuracy"] < MIN_ACCURACY:
        from kb.errors import KbError

        raise KbError(
            f"the {architecture} toy model (seed {seed}) reaches only {row['accuracy']:.2f} accuracy (needs"
            f" {MIN_ACCURACY})"
        )
    fit_inputs = toy_model.inputs(architecture, toy_task.sample(64, FIT_SEED))
    batch = toy_task.sample(examples, EVAL_SEED + 1)
    generator = torch.Generator().manual_seed(derived_seed(architecture, seed, "fill"))
    fills = toy_task.NOISE_FILL_STD * torch.randn(
        batch.pixel_values.shape, generator=generator
    )  # the metric's own fill
    logit_rng = torch.Generator().manual_seed(derived_seed(architecture, seed, "random-logit"))
    out: dict[str, Any] = {
        "architecture": architecture,
        "seed": seed,
        "model": row,
        "fingerprint": cached.fingerprint,
        "trained_now": cached.trained,
        "train_seconds": round(trained_seconds, 1),
        "methods": {},
        "stages": [name for name, _ in scrambling.stages(adapter)],
    }
    for method in methods(derived_seed(architecture, seed, "explain")):
        if only is not None and method.name not in only:
            continue
        progress(f"{architecture} seed {seed}: {method.name}")
        began = time.perf_counter()
        trained = _prepare(method, adapter, fit_inputs)
        control = _prepare(
            fresh(method.name, derived_seed(architecture, seed, method.name, "control")), adapter, fit_inputs
        )
        values: dict[str, list[float]] = {name: [] for name in METRICS}
        maps, cascade, alone = [], [], []
        explain_seconds = 0.0
        for index in range(examples):
            example = batch.item(index)
            inputs = toy_model.inputs(architecture, example)
            cell, target = int(example.cell), int(example.answer)
            tick = time.perf_counter()
            explanation = trained.explain(adapter, inputs, target)
            explain_seconds += time.perf_counter() - tick
            image = explanation.image_flat
            values["pointing_game"].append(metrics.pointing_game(image, cell))
            values["relevance_mass"].append(metrics.relevance_mass(image, cell))
            values["localisation_auc"].append(metrics.localisation_auc(image, cell))
            if explanation.text is not None:
                where = explanation.text_positions.tolist().index(toy_task.CELL_NAME_POSITION)
                values["relevance_rank_accuracy"].append(
                    metrics.relevance_rank_accuracy(image, explanation.text, cell, where)
                )
                values["text_pointing"].append(metrics.pointing_game(explanation.text, where))
            fill = toy_model.inputs(architecture, example, fills[index : index + 1])["pixel_values"]
            deletion, insertion = metrics.deletion_insertion(adapter, inputs, image, target, fill=fill)
            values["deletion_auc"].append(deletion)
            values["insertion_auc"].append(insertion)
            share = explanation.image_share()
            if share is not None:
                values["image_share"].append(share)
            if "completeness" in explanation.extras:
                change = explanation.extras["logit_change"]
                values["ig_completeness_error"].append(
                    abs(explanation.extras["completeness"] - change) / max(abs(change), 1e-6)
                )
            if index < random_logit:
                other = int(torch.randint(len(toy_task.PALETTE) - 1, (1,), generator=logit_rng))
                other = toy_task.FIRST_ANSWER + (
                    other + (other >= target - toy_task.FIRST_ANSWER)
                )  # a colour, not the answer
                values["random_logit_similarity"].append(
                    metrics.spearman(image, trained.explain(adapter, inputs, other).image_flat)
                )
            if index < randomisation:
                cascade.append(
                    _randomised(scrambling.cascading, adapter, control, inputs, target, image, architecture, seed)
                )
                alone.append(
                    _randomised(scrambling.independent, adapter, control, inputs, target, image, architecture, seed)
                )
            if index < 3:
                maps.append(explanation.image.tolist())
        out["methods"][method.name] = {
            "values": {k: [round(v, 6) for v in vs] for k, vs in values.items() if vs},
            "maps": maps,
            "cascading": cascade,
            "independent": alone,
            "ms_per_example": round(explain_seconds / examples * 1000, 2),
            "seconds": round(time.perf_counter() - began, 1),
        }
        if method.name == "miner_neurons":
            out["miner"] = _ablation(trained, adapter, model, architecture, test, fit_inputs)
    out["vcd"] = _vcd(adapter, model, architecture, test)
    out["examples"] = [
        {"cell": int(batch.cell[i]), "colours": batch.colours[i].tolist(), "pixels": batch.pixel_values[i].tolist()}
        for i in range(min(3, examples))
    ]
    return out


def _randomised(
    context: Any, adapter: Any, control: Any, inputs: Any, target: int, image: Any, architecture: str, seed: int
) -> list[list[float]]:
    """Per stage, [signed, absolute] Spearman between the explanation and the one of the scrambled model."""
    from kb.xai import metrics
    from kb.xai import randomisation as scrambling

    row = []
    for stage in range(len(scrambling.stages(adapter))):
        with context(adapter, stage, derived_seed(architecture, seed, "scramble", stage)):
            other = control.explain(adapter, inputs, target).image_flat
        rho = metrics.spearman(image, other)
        row.append([round(rho, 6), round(abs(rho), 6)])
    return row


def _model_row(model: Any, architecture: str, test: Any) -> dict[str, Any]:
    import torch

    from kb.xai import toy_model, toy_task

    unknown = torch.full_like(test.answer, toy_task.UNKNOWN)
    flat = toy_task.occlude_cells(test.pixel_values, test.cell)
    noise = toy_task.occlude_cells(test.pixel_values, test.cell, noise=torch.Generator().manual_seed(11))
    with torch.no_grad():
        colours = toy_model.answer_logits(model, architecture, test, flat).softmax(-1)[
            :, toy_task.FIRST_ANSWER : toy_task.UNKNOWN
        ]
    return {
        "accuracy": round(toy_model.accuracy(model, architecture, test), 4),
        "removed_is_unknown_flat": round(toy_model.accuracy(model, architecture, test, flat, unknown), 4),
        "removed_is_unknown_noise": round(toy_model.accuracy(model, architecture, test, noise, unknown), 4),
        "removed_top_colour_probability": round(float(colours.max(-1).values.mean()), 4),
        "chance": toy_task.CHANCE,
        "test_examples": len(test),
    }


def _ablation(
    neurons: Any, adapter: Any, model: Any, architecture: str, test: Any, fit_inputs: Any
) -> dict[str, float]:
    """MINER's test: accuracy with the mined neurons off against as many random neurons off, at two sizes."""
    from kb.xai import toy_model
    from kb.xai.neurons import ModalityNeurons

    out: dict[str, float] = {}
    for fraction, suffix in ((neurons.fraction, ""), (LARGE_ABLATION, "_large")):
        mined = (
            neurons if fraction == neurons.fraction else ModalityNeurons(fraction=fraction).mine(adapter, fit_inputs)
        )
        with mined.ablated(adapter):
            accuracy = toy_model.accuracy(model, architecture, test)
        controls = []
        for seed in range(3):
            with mined.ablated(adapter, mined.random_selection(seed)):
                controls.append(toy_model.accuracy(model, architecture, test))
        out[f"ablated_accuracy{suffix}"] = round(accuracy, 4)
        out[f"random_ablated_accuracy{suffix}"] = round(mean(controls), 4)
    return out


def _vcd(adapter: Any, model: Any, architecture: str, test: Any) -> dict[str, float]:
    import torch

    from kb.xai import toy_model
    from kb.xai.decoding import VisualContrastiveDecoding

    vcd = VisualContrastiveDecoding()
    inputs = toy_model.inputs(architecture, test)
    with torch.no_grad():
        greedy = float((adapter.logits(inputs).argmax(-1) == test.answer).float().mean())
        noisy_inputs = toy_model.inputs(architecture, test, vcd.distort(test.pixel_values))
        noisy = float((adapter.logits(noisy_inputs).argmax(-1) == test.answer).float().mean())
    contrastive = float((vcd.decode(adapter, inputs) == test.answer).float().mean())
    return {
        "greedy_accuracy": round(greedy, 4),
        "vcd_accuracy": round(contrastive, 4),
        "noisy_image_accuracy": round(noisy, 4),
    }


# --- the table -----------------------------------------------------------------------------------


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The committed table: per metric, per architecture, per seed and pooled [mean, low, high]; paired comparisons."""
    from kb.xai import intervals

    architectures = sorted({r["architecture"] for r in runs}, key=["llava", "qwen2_vl"].index)
    by = {(r["architecture"], r["seed"]): r for r in runs}
    seeds = sorted({r["seed"] for r in runs})
    present = {arch: [s for s in seeds if (arch, s) in by] for arch in architectures}  # seeds run for each architecture
    names = list(runs[0]["methods"])
    table: dict[str, Any] = {}
    for name in names:
        info = BY_NAME.get(name)
        row: dict[str, Any] = {
            "paper_id": info.paper_id if info else None,
            "title": info.title if info else VARIANTS.get(name, name),
            "metrics": {},
            "ms_per_example": {},
            "randomisation": {},
        }
        for metric in METRICS:
            cell: dict[str, Any] = {}
            for arch in architectures:
                groups = [by[(arch, s)]["methods"][name]["values"].get(metric, []) for s in present[arch]]
                if not any(groups):
                    continue
                cell[arch] = {
                    "pooled": [round(v, 4) for v in intervals.pooled(groups, derived_seed(name, metric, arch))],
                    "seeds": {
                        str(s): [round(v, 4) for v in intervals.per_seed(g, derived_seed(name, metric, arch, s))]
                        for s, g in zip(present[arch], groups, strict=True)
                        if g
                    },
                }
            if cell:
                row["metrics"][metric] = cell
        for arch in architectures:
            done = [by[(arch, s)]["methods"][name] for s in present[arch]]
            row["ms_per_example"][arch] = round(mean(p["ms_per_example"] for p in done), 2)
            row["randomisation"][arch] = _curves(done, by[(arch, present[arch][0])]["stages"], name, arch)
        table[name] = row
    paired: dict[str, Any] = {}
    for arch in architectures:
        paired[arch] = {}
        for metric in ("pointing_game", "localisation_auc", "deletion_auc", "insertion_auc"):
            compare: dict[str, Any] = {}
            for name in names:
                if name == "random":
                    continue
                first = [by[(arch, s)]["methods"][name]["values"].get(metric, []) for s in present[arch]]
                second = [by[(arch, s)]["methods"]["random"]["values"].get(metric, []) for s in present[arch]]
                if all(first) and all(second):
                    result = intervals.paired(first, second, derived_seed("paired", name, metric, arch))
                    compare[name] = {k: round(v, 4) for k, v in result.items()}
            paired[arch][metric] = compare
        best = max(
            (n for n in names if n != "random"), key=lambda n: table[n]["metrics"]["pointing_game"][arch]["pooled"][0]
        )
        first = [by[(arch, s)]["methods"][best]["values"]["pointing_game"] for s in present[arch]]
        ranking = {}
        for name in names:
            if name == best:
                continue
            second = [by[(arch, s)]["methods"][name]["values"]["pointing_game"] for s in present[arch]]
            ranking[name] = {
                k: round(v, 4) for k, v in intervals.paired(first, second, derived_seed("best", name, arch)).items()
            }
        paired[arch]["pointing_game_vs_best"] = {"best": best, "comparisons": ranking}
    models = {arch: {str(s): by[(arch, s)]["model"] for s in present[arch]} for arch in architectures}
    extra = {
        arch: {str(s): {"vcd": by[(arch, s)]["vcd"], "miner": by[(arch, s)].get("miner")} for s in present[arch]}
        for arch in architectures
    }
    figures = {
        arch: {
            "examples": [{**e, "pixels": _rounded(e["pixels"])} for e in by[(arch, present[arch][0])]["examples"]],
            "maps": {n: by[(arch, present[arch][0])]["methods"][n]["maps"] for n in names},
        }
        for arch in architectures
    }
    return {
        "version": VERSION,
        "architectures": architectures,
        "seeds": seeds,
        "seeds_per_architecture": present,
        "methods": table,
        "paired": paired,
        "models": models,
        "decoding_and_neurons": extra,
        "figures": figures,
        "examples_per_seed": len(runs[0]["methods"][names[0]]["values"]["pointing_game"]),
    }


def _rounded(values: Any) -> Any:
    return [_rounded(v) for v in values] if isinstance(values, list) else round(float(values), 2)


def _curves(present: list[dict[str, Any]], stages: list[str], name: str, arch: str) -> dict[str, Any]:
    from kb.xai import intervals

    out: dict[str, Any] = {}
    for kind in ("cascading", "independent"):
        curve = []
        for stage, label in enumerate(stages):
            signed = [[row[stage][0] for row in p[kind]] for p in present]
            absolute = [[row[stage][1] for row in p[kind]] for p in present]
            if not any(signed):
                continue
            curve.append(
                {
                    "stage": label,
                    "signed": [round(v, 4) for v in intervals.pooled(signed, derived_seed(name, arch, kind, stage))],
                    "absolute": [
                        round(v, 4) for v in intervals.pooled(absolute, derived_seed(name, arch, kind, stage, 1))
                    ],
                }
            )
        out[kind] = curve
    return out


def provenance(seeds: list[int], architectures: list[str], examples: int) -> dict[str, Any]:
    import numpy
    import torch
    import transformers

    root = Path(__file__).resolve().parents[2]
    try:
        # git from PATH with fixed arguments and no shell: provenance only, a missing git reads "unknown".
        commit = subprocess.run(  # noqa: S603
            ["git", "-C", str(root), "rev-parse", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(  # noqa: S603
                ["git", "-C", str(root), "status", "--porcelain", "kb/xai"],  # noqa: S607
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", True
    return {
        "commit": commit,
        "uncommitted_xai_changes": dirty,
        "code": code_version(),
        "seeds": seeds,
        "architectures": architectures,
        "examples_per_seed": examples,
        "randomisation_examples": RANDOMISATION_EXAMPLES,
        "random_logit_examples": RANDOM_LOGIT_EXAMPLES,
        "bootstrap_resamples": 2000,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "libraries": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "numpy": numpy.__version__,
        },
    }


def write(results: dict[str, Any], folder: Path = RESULTS) -> Path:
    """Stores the table (and its figures) as committed data: kb/xai/results/benchmark.json and figures/*.png."""
    from kb.xai import figures

    folder.mkdir(parents=True, exist_ok=True)
    figures.write_all(results, folder / "figures")
    path = folder / "benchmark.json"
    atomic.write_text(path, json.dumps(results, indent=1, sort_keys=False) + "\n")
    return path


def read(folder: Path = RESULTS) -> dict[str, Any] | None:
    """The committed table, or None when there is none (the site then shows the methods without results)."""
    path = folder / "benchmark.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None
