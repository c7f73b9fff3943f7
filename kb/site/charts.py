"""Bar charts as inline SVG, drawn at build time: no charting library in the reader's browser.

Colours are CSS classes, so the site's stylesheet decides them (the perspective colours of the home diagram,
and a categorical palette for other series) and dark mode recolours them. Every chart carries a <title> and a
table of its numbers nearby, so screen readers and copy-paste get the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kb.site import markdown_safety as safe

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 14, 40  # plot margins; the x-axis title sits under the tick labels


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # class that colours it: kb-p-model, kb-c-3, ...
    values: Sequence[int]


def _ticks(top: int) -> list[int]:
    if top <= 0:
        return [0]
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        step = candidate
        if top / candidate <= 5:
            break
    return list(range(0, top + step, step))


def stacked(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    x_title: str,
    y_title: str = "papers",
    chart_id: str = "",
) -> str:
    """A stacked bar chart with its legend as HTML under it (so it never collides with the axis titles)."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    ticks = _ticks(max(totals, default=0))
    top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    bar = slot * 0.7
    parts = [
        f'<svg class="kb-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}-title" '
        f'preserveAspectRatio="xMidYMid meet"><title id="{chart_id}-title">{safe.text(title)}</title>'
    ]
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / top
        parts.append(
            f'<line class="kb-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="kb-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    for i, label in enumerate(labels):
        x = LEFT + slot * i + (slot - bar) / 2
        base = 0
        for s in series:
            value = s.values[i]
            if value:
                h = plot_h * value / top
                y = TOP + plot_h - plot_h * (base + value) / top
                parts.append(
                    f'<rect class="{safe.attr(s.css)}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                    f"<title>{safe.text(s.name)}, {safe.text(label)}: {value}</title></rect>"
                )
                base += value
        if len(labels) <= 16 or i % 2 == 0:
            parts.append(
                f'<text class="kb-tick" x="{x + bar / 2:.1f}" y="{TOP + plot_h + 16}"'
                f' text-anchor="middle">{safe.text(label)}</text>'
            )
    parts.append(
        f'<text class="kb-axis-title" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}"'
        f' text-anchor="middle">{safe.text(x_title)}</text>'
    )
    parts.append(
        f'<text class="kb-axis-title" transform="translate(12 {TOP + plot_h / 2:.1f}) rotate(-90)"'
        f' text-anchor="middle">{safe.text(y_title)}</text>'
    )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="kb-legend-item"><span class="kb-swatch {safe.attr(s.css)}"></span>{safe.text(s.name)}</span>'
        for s in series
        if any(s.values)
    )
    heading = f'<p class="kb-chart-title">{safe.text(title)}</p>'
    return (
        f'<figure class="kb-figure" id="{chart_id}">{heading}{"".join(parts)}<figcaption'
        f' class="kb-legend">{legend}</figcaption></figure>'
    )


def per_year(counts: dict[int, int], *, title: str, chart_id: str) -> str:
    """Papers per year as a small single-series bar chart, every year between the first and the last."""
    if not counts:
        return ""
    years = list(range(min(counts), max(counts) + 1))
    return stacked(
        [str(y) for y in years],
        [Series("papers", "kb-c-0", [counts.get(y, 0) for y in years])],
        title=title,
        x_title="year",
        chart_id=chart_id,
    )
