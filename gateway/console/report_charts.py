"""The report page's charts, drawn on the server as SVG: no script, no outside asset, nothing for the CSP to allow.

Presentation attributes only (``fill``, ``font-size``), never ``style``: the console's CSP has no ``unsafe-inline``
for styles. Every label is escaped (a category is configurable text, and a corrected record may carry anything).
Colours keep WCAG AA contrast on white (text #1a1a1a; bars #0d3b66 and #2e7d32 against white and their labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from gateway.cli.display import safe_text

WIDTH = 800
LABEL_WIDTH = 260
BAR_HEIGHT = 22
ROW_GAP = 10
TOP = 28  # the legend
INK = "#1a1a1a"
GRID = "#8a8a8a"


@dataclass(frozen=True)
class Series:
    name: str  # shown in the legend
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[int, ...]  # one per series; a later series is drawn over the first (a part of it)
    shown: str | None = None  # the number written after the bar, when not the first value (e.g. "-": no data)


def _text(x: float, y: float, text: str, *, anchor: str = "start", weight: str = "normal") -> str:
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-size="15" fill="{INK}" text-anchor="{anchor}" '
            f'font-weight="{weight}">{escape(safe_text(text))}</text>')


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(chart_id: str, title: str, series: Sequence[Series], bars: Sequence[Bar], *, unit: str = "") -> Markup:
    """Horizontal bars, one row per :class:`Bar`; the first series is the full bar, the others drawn over it."""
    height = TOP + len(bars) * (BAR_HEIGHT + ROW_GAP) + 10
    top = max((max(b.values) for b in bars if b.values), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet" aria-labelledby="{chart_id}">',
             f'<title id="{chart_id}">{escape(safe_text(title))}</title>']
    x = LABEL_WIDTH
    for s in series:  # the legend
        parts.append(f'<rect x="{x}" y="6" width="14" height="14" fill="{s.colour}"/>')
        parts.append(_text(x + 20, 18, s.name))
        x += 30 + 8 * len(s.name)
    for i, b in enumerate(bars):
        y = TOP + i * (BAR_HEIGHT + ROW_GAP)
        parts.append(_text(LABEL_WIDTH - 8, y + 16, _short(b.label), anchor="end"))
        for value, s in zip(b.values, series, strict=False):
            w = span * value / top
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" fill="{s.colour}">'
                         f'<title>{escape(safe_text(b.label))}: {escape(s.name)} {value}{escape(unit)}</title></rect>')
        total = b.values[0] if b.values else 0
        label = b.shown if b.shown is not None else f"{total}{unit}"
        parts.append(_text(LABEL_WIDTH + span * total / top + 6, y + 16, label, weight="bold"))
    parts.append(f'<line x1="{LABEL_WIDTH}" y1="{TOP - 4}" x2="{LABEL_WIDTH}" y2="{height - 6}" stroke="{GRID}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
