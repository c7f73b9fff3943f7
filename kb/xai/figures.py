"""One PNG per method from the benchmark table: three test images per toy architecture with the method's map.

The maps of a method share one colour scale; a map with negative values keeps its sign (a diverging
scale centred on zero); the evidence cell is outlined. Below, the cascading randomisation curve
(signed and absolute rank correlation with the explanation of the scrambled model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kb import atomic


def write_all(results: dict[str, Any], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    folder.mkdir(parents=True, exist_ok=True)
    names = list(results["methods"])
    for name in names:
        _save(_figure(name, results), folder / f"{name}.png")
    _save(_vcd(results), folder / "vcd.png")


def _figure(name: str, results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Rectangle

    from kb.xai import toy_task

    architectures = results["architectures"]
    maps = {arch: np.asarray(results["figures"][arch]["maps"][name], dtype=float) for arch in architectures}
    limit = max(float(np.abs(m).max()) for m in maps.values()) or 1.0
    signed = any(float(m.min()) < 0 for m in maps.values())
    fig, axes = plt.subplots(len(architectures) * 2 + 1, 3, figsize=(6.6, 2.2 * (len(architectures) * 2 + 1)))
    for a, arch in enumerate(architectures):
        for column in range(len(results["figures"][arch]["examples"]), 3):
            axes[2 * a, column].axis("off")
            axes[2 * a + 1, column].axis("off")
        for column, example in enumerate(results["figures"][arch]["examples"]):
            image = (np.asarray(example["pixels"]).transpose(1, 2, 0) + 0.5).clip(0, 1)
            row, col = divmod(example["cell"], toy_task.GRID)
            top, bottom = axes[2 * a, column], axes[2 * a + 1, column]
            top.imshow(image, interpolation="nearest")
            top.set_title(f"{arch}: colour of c{example['cell']}?", fontsize=8)
            bottom.imshow(
                maps[arch][column],
                cmap="RdBu_r" if signed else "magma",
                vmin=-limit if signed else 0,
                vmax=limit,
                interpolation="nearest",
            )
            for axis, size in ((top, toy_task.CELL_PIXELS), (bottom, 1)):
                axis.add_patch(
                    Rectangle(
                        (col * size - 0.5, row * size - 0.5), size, size, fill=False, edgecolor="cyan", linewidth=2
                    )
                )
                axis.set_xticks([])
                axis.set_yticks([])
    curve_axis = plt.subplot2grid((len(architectures) * 2 + 1, 3), (len(architectures) * 2, 0), colspan=3, fig=fig)
    for ax in axes[-1]:
        ax.remove()
    for arch in architectures:
        curve = results["methods"][name]["randomisation"][arch]["cascading"]
        stages = [c["stage"] for c in curve]
        curve_axis.plot(stages, [c["signed"][0] for c in curve], marker="o", label=f"{arch} signed")
        curve_axis.plot(stages, [c["absolute"][0] for c in curve], marker="s", linestyle="--", label=f"{arch} |rho|")
    curve_axis.axhline(0, color="#999", linewidth=0.8)
    curve_axis.set_ylim(-1, 1)
    curve_axis.set_ylabel("rank correlation", fontsize=8)
    curve_axis.set_title("cascading randomisation (blocks scrambled from the output back)", fontsize=8)
    curve_axis.tick_params(labelsize=7)
    curve_axis.legend(fontsize=6, ncol=2)
    fig.suptitle(f"{name} (one colour scale{', signed' if signed else ''})", fontsize=9)
    fig.tight_layout()
    return fig


def _vcd(results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axis = plt.subplots(figsize=(5.5, 2.8))
    labels = ["greedy", "VCD", "greedy, noised image"]
    keys = ["greedy_accuracy", "vcd_accuracy", "noisy_image_accuracy"]
    width = 0.8 / len(results["architectures"])
    for i, arch in enumerate(results["architectures"]):
        seeds = results["decoding_and_neurons"][arch]
        values = [np.mean([seeds[s]["vcd"][k] for s in seeds]) for k in keys]
        axis.barh(np.arange(3) + i * width, values, height=width, label=arch)
    axis.set_yticks(np.arange(3) + width / 2, labels)
    axis.set_xlim(0, 1)
    axis.set_xlabel("accuracy on the toy task (mean over seeds)")
    axis.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    try:
        with atomic.replacing(path) as temp:
            fig.savefig(temp, format="png", dpi=72)
    finally:
        plt.close(fig)
