"""The committed benchmark table as text: shared by `kb xai bench` and the method pages (no torch import)."""

from __future__ import annotations

from typing import Any

LABELS = {
    "pointing_game": "pointing game (chance 1/16)",
    "relevance_mass": "relevance mass (chance 1/16)",
    "localisation_auc": "localisation AUC, offset-invariant (chance 0.5)",
    "relevance_rank_accuracy": "relevance rank accuracy, image + text, K=2",
    "text_pointing": "text pointing: the cell's name on top",
    "deletion_auc": "deletion AUC, noise fill (lower is better)",
    "insertion_auc": "insertion AUC, noise fill (higher is better)",
    "random_logit_similarity": "random-logit test: rank correlation with the map of another colour",
    "image_share": "image share of |attribution|",
    "ig_completeness_error": "IG completeness error |sum - delta| / |delta|",
}
HEADLINE = ("pointing_game", "localisation_auc", "deletion_auc", "insertion_auc")


def interval(cell: list[float] | None) -> str:
    if not cell:
        return "-"
    mean, low, high = cell
    return f"{mean:.2f} [{low:.2f}, {high:.2f}]"


def method_rows(results: dict[str, Any], name: str) -> list[tuple[str, str, str, str]]:
    """(metric label, architecture, pooled mean [95% interval], per-seed means) for one method."""
    out = _decoding_and_neurons(results, name)
    row = (results.get("methods") or {}).get(name)
    if not isinstance(row, dict):
        return out
    for metric, label in LABELS.items():
        for arch, cell in (row.get("metrics") or {}).get(metric, {}).items():
            seeds = ", ".join(f"{v[0]:.2f}" for v in cell.get("seeds", {}).values())
            out.append((label, arch, interval(cell.get("pooled")), seeds))
    for arch, curves in (row.get("randomisation") or {}).items():
        for kind in ("cascading", "independent"):
            curve = curves.get(kind) or []
            if curve:
                last = curve[-1] if kind == "cascading" else min(curve, key=lambda c: c["absolute"][0])
                out.append(
                    (
                        f"{kind} randomisation, {last['stage']}: signed / absolute rank correlation",
                        arch,
                        f"{interval(last['signed'])} / {interval(last['absolute'])}",
                        "",
                    )
                )
    for arch, ms in (row.get("ms_per_example") or {}).items():
        out.append(("milliseconds per explanation (toy model, 2 shared cores)", arch, f"{ms:.1f}", ""))
    return out


def table_lines(results: dict[str, Any]) -> list[str]:
    """The headline table: one line per method and architecture, pooled means with 95% intervals."""
    widths = (24, 9) + (22,) * len(HEADLINE)
    header = ("method", "model", *HEADLINE)
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    for name, row in results["methods"].items():
        for arch in results["architectures"]:
            cells = [interval(row["metrics"].get(m, {}).get(arch, {}).get("pooled")) for m in HEADLINE]
            lines.append("  ".join(v.ljust(w) for v, w in zip((name, arch, *cells), widths, strict=True)))
    return lines


DECODING = {
    "greedy_accuracy": "accuracy, greedy decoding",
    "vcd_accuracy": "accuracy, visual contrastive decoding",
    "noisy_image_accuracy": "accuracy, greedy on the noised image (VCD's contrast, official noise schedule)",
}
NEURONS = {
    "ablated_accuracy": "accuracy with the mined neurons off",
    "random_ablated_accuracy": "accuracy with as many random neurons off",
    "ablated_accuracy_large": "accuracy with the top quarter of neurons off",
    "random_ablated_accuracy_large": "accuracy with a random quarter off",
}


def _decoding_and_neurons(results: dict[str, Any], name: str) -> list[tuple[str, str, str, str]]:
    """VCD's accuracies and MINER's ablation, mean over seeds with each seed's value."""
    part, labels = ("vcd", DECODING) if name == "vcd" else ("miner", NEURONS) if name == "miner_neurons" else (None, {})
    out = []
    for arch, seeds in (results.get("decoding_and_neurons") or {}).items():
        for key, label in labels.items():
            values = [(seeds[s].get(part) or {}).get(key) for s in seeds]
            values = [v for v in values if v is not None]
            if values:
                out.append((label, arch, f"{sum(values) / len(values):.2f}", ", ".join(f"{v:.2f}" for v in values)))
    return out


def markdown(results: dict[str, Any], metrics: tuple[str, ...] = HEADLINE) -> str:
    """The headline table as Markdown (for site/methods.md): one row per method, one column per metric and model."""
    archs = results["architectures"]
    header = ["method"] + [f"{m.replace('_', ' ')} ({a})" for m in metrics for a in archs]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for name, row in results["methods"].items():
        cells = [interval(row["metrics"].get(m, {}).get(a, {}).get("pooled")) for m in metrics for a in archs]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)
