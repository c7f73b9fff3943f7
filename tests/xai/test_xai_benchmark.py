"""The ground-truth benchmark: the toy model really uses the evidence, the baseline sits at chance, the table is real."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kb.project import Project
from kb.xai.benchmark import METRICS, ensure_results
from kb.xai.catalog import METHODS


def test_toy_model_solves_the_task_and_needs_the_evidence(bench: dict[str, Any]) -> None:
    model = bench["model"]
    assert model["accuracy"] >= 0.9
    # Covering the named cell must leave the model guessing: chance is 1/4.
    assert abs(model["occluded_accuracy"] - model["chance"]) < 0.12
    assert model["random_model_accuracy"] < 0.5


def test_random_baseline_sits_at_chance(bench: dict[str, Any]) -> None:
    random = bench["methods"]["random"]
    assert random["pointing_game"] < 0.2  # chance 1/16, 48 examples
    assert abs(random["relevance_mass"] - 1 / 16) < 0.04


def test_table_covers_every_method_with_its_paper(bench: dict[str, Any]) -> None:
    for method in METHODS:
        row = bench["methods"][method.name]
        assert row["paper_id"] == method.paper_id
        if method.attribution:
            for metric in ("pointing_game", "relevance_mass", "deletion_auc", "insertion_auc", "randomisation_similarity"):
                assert 0.0 - 1.0 <= row[metric] <= 1.0, (method.name, metric)
    assert set(METRICS) <= set(bench["methods"]["occlusion"])


def test_perturbation_methods_find_the_evidence_better_than_chance(bench: dict[str, Any]) -> None:
    methods = bench["methods"]
    assert methods["occlusion"]["pointing_game"] > 0.8
    assert methods["occlusion"]["deletion_auc"] < methods["random"]["deletion_auc"]
    assert methods["occlusion"]["insertion_auc"] > methods["random"]["insertion_auc"]
    assert methods["miner_neurons"]["random_ablated_accuracy"] >= methods["miner_neurons"]["ablated_accuracy"] - 0.05


def test_results_are_cached_and_figures_written(bench: dict[str, Any], bench_project: Path) -> None:
    folder = bench_project / "build" / "xai"
    stamp = (folder / "results.json").stat().st_mtime_ns
    again = ensure_results(Project(bench_project))
    assert again["methods"] == bench["methods"]
    assert (folder / "results.json").stat().st_mtime_ns == stamp  # re-used, not recomputed
    for name in bench["methods"]:
        figure = folder / "figures" / f"{name}.png"
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert not list(folder.glob("*.tmp"))


def test_cli_prints_the_table_as_json(bench: dict[str, Any], bench_project: Path, run_kb: Any) -> None:
    result = run_kb("--root", str(bench_project), "xai", "bench", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"]["accuracy"] == bench["model"]["accuracy"]
    assert data["methods"]["rise"]["paper_id"] == "1806.07421"
    text = run_kb("--root", str(bench_project), "xai", "bench")
    assert text.returncode == 0 and "attention_rollout" in text.stdout and "accuracy" in text.stdout


def test_cli_lists_methods(run_kb: Any, bench_project: Path) -> None:
    result = run_kb("--root", str(bench_project), "xai", "list")
    assert result.returncode == 0
    assert "kb.xai.patching:CausalTracing" in result.stdout
