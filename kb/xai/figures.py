"""One PNG per method from the toy model: three test images, the method's patch scores, the evidence outlined."""

from __future__ import annotations

from kb import atomic
from pathlib import Path
from typing import Any


def write_all(figures: dict[str, Any], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    folder.mkdir(parents=True, exist_ok=True)
    for name, maps in figures["maps"].items():
        _save(_heatmaps(name, figures["examples"], maps), folder / f"{name}.png")
    _save(_bars("vcd", {
        "greedy decoding": figures["vcd"]["greedy"], "visual contrastive decoding": figures["vcd"]["vcd"],
        "greedy, noised image (VCD's contrast)": figures["vcd"]["noisy"],
    }), folder / "vcd.png")


def _heatmaps(name: str, examples: list[Any], maps: list[list[list[float]]]) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from kb.xai import toy_task

    fig, axes = plt.subplots(2, len(maps), figsize=(2.2 * len(maps), 4.4))
    for column, (example, scores) in enumerate(zip(examples, maps, strict=False)):
        image = (example.pixel_values[0].permute(1, 2, 0) + 0.5).clamp(0, 1).numpy()
        row, col = divmod(int(example.cell), toy_task.GRID)
        axes[0, column].imshow(image, interpolation="nearest")
        axes[0, column].set_title(f"colour of c{int(example.cell)}?", fontsize=9)
        axes[1, column].imshow(scores, cmap="magma", interpolation="nearest")
        axes[1, column].set_title(name, fontsize=9)
        for axis, size in ((axes[0, column], toy_task.CELL_PIXELS), (axes[1, column], 1)):
            axis.add_patch(Rectangle((col * size - 0.5, row * size - 0.5), size, size, fill=False, edgecolor="cyan", linewidth=2))
            axis.set_xticks([])
            axis.set_yticks([])
    fig.tight_layout()
    return fig


def _bars(name: str, values: dict[str, float]) -> Any:
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(5, 2.6))
    axis.barh(list(values), list(values.values()), color=["#888", "#c44", "#48c"])
    axis.set_xlim(0, 1)
    axis.set_xlabel("accuracy on the toy task")
    axis.set_title(name)
    fig.tight_layout()
    return fig


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    try:
        with atomic.replacing(path) as temp:
            fig.savefig(temp, format="png", dpi=80)
    finally:
        plt.close(fig)
