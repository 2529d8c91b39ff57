"""Pass rate per area over the last builds, drawn as an inline SVG line chart (no JS, no library).

One chart per (target, api-version), one line per area; a build where an area measured nothing
leaves a gap rather than a misleading zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from conformance.report.history import HistoryLine
from conformance.report.model import Cell

LAST_N = 30
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#393b79", "#637939")
WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 190, 16, 40
NUDGE = 1.6  # px between areas, so lines with equal rates stay visible side by side


def area_colours(areas: list[str]) -> dict[str, str]:
    """Same colour for an area in every chart of the page."""
    return {area: PALETTE[i % len(PALETTE)] for i, area in enumerate(sorted(areas))}


def rates(lines: list[HistoryLine], cell: Cell) -> dict[str, list[float | None]]:
    """area -> pass rate per history line (None where the area had no measured test)."""
    series: dict[str, list[float | None]] = {}
    for index, line in enumerate(lines):
        for item in line.get("cells", []):
            if not isinstance(item, dict):
                continue
            if (item.get("target"), item.get("api_version")) != (cell.target, cell.api_version):
                continue
            rate = item.get("pass_rate")
            area = str(item.get("area", ""))
            values = series.setdefault(area, [None] * len(lines))
            if isinstance(rate, int | float) and not isinstance(rate, bool) and math.isfinite(rate):
                values[index] = float(rate)
    return series


def _label(line: HistoryLine) -> str:
    stamp = str(line.get("finished_at") or line.get("built_at") or "")
    return stamp[5:10] if len(stamp) >= 10 else stamp  # MM-DD


def line_chart(lines: list[HistoryLine], cell: Cell, colours: dict[str, str]) -> str:
    lines = lines[-LAST_N:]
    series = rates(lines, cell)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(lines), 1)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(rate: float) -> float:
        return TOP + plot_h * (1 - max(0.0, min(1.0, rate)))

    title = f"Pass rate per area, {cell.label}, last {len(lines)} build(s)"
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for pct in (0, 25, 50, 75, 100):  # y axis: gridlines and labels
        gy = y(pct / 100)
        out.append(f'<line x1="{LEFT}" y1="{gy:.1f}" x2="{LEFT + plot_w}" y2="{gy:.1f}" class="grid"/>')
        out.append(f'<text x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end" class="tick">{pct}%</text>')
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" class="axis"/>')
    out.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" class="axis"/>')
    step = max(1, (count + 7) // 8)  # at most ~8 x labels
    for i, line in enumerate(lines):
        if i % step == 0 or i == count - 1:
            out.append(f'<text x="{x(i):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" class="tick">'
                       f"{escape(_label(line))}</text>")
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" class="axis-label">'
               f"build (finished, MM-DD)</text>")
    middle = (len(series) - 1) / 2
    for n, (area, values) in enumerate(sorted(series.items())):
        colour = colours.get(area, PALETTE[n % len(PALETTE)])
        nudge = (n - middle) * NUDGE
        out.append(_polyline(values, x, _shifted(y, nudge), colour, area, lines))
        ly = TOP + 15 * n + 6
        last = next((v for v in reversed(values) if v is not None), None)
        latest = "—" if last is None else f"{last:.0%}"
        out.append(f'<line x1="{WIDTH - RIGHT + 14}" y1="{ly}" x2="{WIDTH - RIGHT + 34}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="3"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 40}" y="{ly + 4}" class="legend">{escape(area)} '
                   f'<tspan class="tick">{latest}</tspan></text>')
    if not series:
        out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
                   f'class="tick">no history for this target and api-version yet</text>')
    out.append("</svg>")
    return "\n".join(out)


def _shifted(y: Callable[[float], float], by: float) -> Callable[[float], float]:
    return lambda rate: y(rate) + by


def _polyline(values: list[float | None], x: Callable[[int], float], y: Callable[[float], float],
              colour: str, area: str, lines: list[HistoryLine]) -> str:
    parts: list[str] = []
    dots: list[str] = []
    pen_down = False
    for i, rate in enumerate(values):
        if rate is None:
            pen_down = False
            continue
        px, py = x(i), y(rate)
        parts.append(f"{'L' if pen_down else 'M'}{px:.1f},{py:.1f}")
        pen_down = True
        tip = f"{area}: {rate:.0%} ({line_stamp(lines[i])})"
        dots.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"><title>{escape(tip)}</title></circle>')
    path = (f'<path d="{" ".join(parts)}" fill="none" stroke="{colour}" stroke-width="2" '
            f'data-area="{escape(area)}"/>') if parts else ""
    return path + "".join(dots)


def line_stamp(line: HistoryLine) -> str:
    return str(line.get("finished_at") or line.get("built_at") or "")
