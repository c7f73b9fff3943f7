"""The committed benchmark: its provenance, its table read without training, and a reduced re-run of one seed
that must agree with the committed intervals (slow: it trains one toy model, cached in build/xai/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kb.xai import report
from kb.xai.benchmark import METRICS, read
from kb.xai.catalog import METHODS

REPO = Path(__file__).resolve().parents[2]
REDUCED = 24
CHECKED = ("occlusion", "attention_rollout", "integrated_gradients", "grad_cam", "token_activation_map", "random")


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    data = read()
    assert data is not None, "kb/xai/results/benchmark.json is missing (kb xai bench --write)"
    return data


def test_results_carry_their_provenance(results: dict[str, Any]) -> None:
    provenance = results["provenance"]
    assert len(provenance["commit"]) == 40 and provenance["code"]
    assert provenance["seeds"] == [0, 1, 2] and provenance["examples_per_seed"] >= 200
    assert {"torch", "transformers", "python", "numpy"} <= set(provenance["libraries"])
    assert "llava" in results["architectures"] and set(results["architectures"]) <= {"llava", "qwen2_vl"}
    for arch in results["architectures"]:
        assert results["seeds_per_architecture"][arch] == [0, 1, 2], arch


def test_every_method_has_intervals_on_both_toy_models(results: dict[str, Any]) -> None:
    for method in METHODS:
        if not method.attribution:
            continue
        row = results["methods"][method.name]
        assert row["paper_id"] == method.paper_id
        for arch in results["architectures"]:
            cell = row["metrics"]["pointing_game"][arch]
            mean, low, high = cell["pooled"]
            assert low <= mean <= high and set(cell["seeds"]) == {"0", "1", "2"}
            assert len(row["randomisation"][arch]["cascading"]) >= 4 and row["randomisation"][arch]["independent"]


def test_the_random_row_sits_at_chance_on_every_column(results: dict[str, Any]) -> None:
    # 16 cells; 4 text tokens (cell, c<k>, colour, ?): two evidence tokens among 20, one of 4 words.
    chance = {"pointing_game": 1 / 16, "relevance_mass": 1 / 16, "localisation_auc": 0.5, "random_logit_similarity": 0.0,
              "relevance_rank_accuracy": 2 / 20, "text_pointing": 1 / 4}
    random = results["methods"]["random"]["metrics"]
    for metric, value in chance.items():
        for arch in results["architectures"]:
            _, low, high = random[metric][arch]["pooled"]
            assert low - 0.02 <= value <= high + 0.02, (metric, arch, random[metric][arch])
    for arch in results["architectures"]:
        for kind in ("cascading", "independent"):
            for stage in results["methods"]["random"]["randomisation"][arch][kind]:
                _, low, high = stage["signed"]
                assert low - 0.05 <= 0.0 <= high + 0.05, (arch, kind, stage)


def test_removal_is_neutral_on_every_toy_model(results: dict[str, Any]) -> None:
    for arch, seeds in results["models"].items():
        for seed, model in seeds.items():
            assert model["accuracy"] >= 0.9, (arch, seed)
            assert model["removed_is_unknown_flat"] >= 0.9 and model["removed_is_unknown_noise"] >= 0.9, (arch, seed)


def test_cli_prints_the_committed_table(run_kb: Any, toy_root: Path, results: dict[str, Any]) -> None:
    text = run_kb("--root", str(toy_root), "xai", "bench")
    assert text.returncode == 0, text.stderr
    assert "occlusion" in text.stdout and "[" in text.stdout
    data = json.loads(run_kb("--root", str(toy_root), "xai", "bench", "--json").stdout)
    assert set(METRICS) >= set(data["methods"]["occlusion"]["metrics"]) and "figures" not in data
    assert not (toy_root / "build" / "xai").exists()  # read, not trained


def test_method_rows_format_intervals(results: dict[str, Any]) -> None:
    rows = report.method_rows(results, "occlusion")
    assert any(label.startswith("pointing game") and model == "llava" and "[" in value for label, model, value, _ in rows)
    assert report.method_rows(results, "vcd") and report.method_rows(results, "miner_neurons")


@pytest.mark.slow
def test_a_reduced_rerun_of_one_seed_agrees_with_the_committed_intervals(results: dict[str, Any]) -> None:
    pytest.importorskip("torch")
    from kb.xai import benchmark, intervals

    run = benchmark.run_model("llava", 0, REPO / "build" / "xai", examples=REDUCED, randomisation=0, random_logit=0, only=list(CHECKED))
    assert run["model"]["accuracy"] >= 0.9
    for name in CHECKED:
        for metric in ("pointing_game", "localisation_auc", "deletion_auc", "insertion_auc"):
            mean = intervals.per_seed(run["methods"][name]["values"][metric], 0)[0]
            # Against the interval pooled over the three seeds: training is seeded, but float sums differ with the
            # machine's thread count, so a retrained seed-0 model is another draw of the same recipe, not a copy.
            _, low, high = results["methods"][name]["metrics"][metric]["llava"]["pooled"]
            # The committed interval is for 200 examples; a 24-example mean varies sqrt(200 / 24) times as much.
            slack = (high - low) / 2 * (results["examples_per_seed"] / REDUCED) ** 0.5 + 1e-9
            # Near 0 or 1 a committed interval is almost empty, yet 24 examples still vary, and a toy retrained on
            # another machine is a draw the three committed seeds did not sample (one such run hit 21 of 24 with
            # integrated gradients where every committed seed hit all 200): allow three standard deviations of a
            # 24-example mean of a [0, 1] score at that level, taken no closer than 0.1 to either end.
            level = min(max((low + high) / 2, 0.1), 0.9)
            slack = max(slack, 3 * (level * (1 - level) / REDUCED) ** 0.5)
            assert low - slack <= mean <= high + slack, (name, metric, mean, (low, high), slack)
