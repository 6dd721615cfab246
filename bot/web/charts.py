"""Charts as SVG, drawn on the server with matplotlib and embedded as `data:` images.

Text stays text (`svg.fonttype: none`), so it is selectable and scales; every chart stands
beside a table of the same numbers (pages' templates), which is what screen readers read.
`data:` images rather than inline <svg>: matplotlib's SVG styles itself with a <style> element
and style attributes, which the page's strict Content-Security-Policy would refuse, while an
image is its own document. Object API and the Agg canvas only (no pyplot, no global figure).

Every chart is drawn in the viewer's language (`t`): its labels arrive translated, its axes'
numbers are written the locale's way, and the heatmap's words and numbers come from
`chart_data`, as Slack's PNG does. Japanese text has no glyphs in DejaVu Sans, which only
matters for measuring: the SVG keeps the text, and the browser draws it in a font that has
them, so unlike the PNG (`png_speech`) the SVG is in Japanese for a Japanese viewer.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.i18n import Speech
from bot.reports.chart import _font, chart_data, chart_figure
from bot.reports.health import Health

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GREEN = "#2e7d4f"
GREY = "#8a9099"
LABEL_LIMIT = 32


def _data_uri(figure: Figure) -> str:
    import matplotlib

    out = io.BytesIO()
    with (
        matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "missionbot"}),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def _figure(width: float, height: float, *, left: float = 0.08) -> Figure:
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    # Fixed margins: a constrained layout measured every label first, doubling the time.
    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(left=left, right=0.97, top=0.95, bottom=min(0.5, 0.5 / height))
    FigureCanvasSVG(figure)
    return figure


def _clip(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _counts(axis: Any, t: Speech) -> None:
    """Whole numbers only (kudos come whole), written as the reader writes numbers."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda value, _position: t.number(value)))


def bars(labels: Sequence[str], values: Sequence[int], t: Speech) -> str:
    """Horizontal bars, largest first as given."""
    figure = _figure(7, 0.9 + 0.32 * max(1, len(labels)), left=0.36)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    axes.barh(positions, values, color=GREEN)
    axes.set_yticks(positions, labels=[_clip(label) for label in labels])
    axes.invert_yaxis()
    _counts(axes.xaxis, t)
    for label in (*axes.get_yticklabels(), *axes.get_xticklabels()):
        label.set_parse_math(False)
        label.set_fontproperties(_font(9))
    axes.spines[["top", "right"]].set_visible(False)
    return _data_uri(figure)


def weekly(weeks: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], t: Speech) -> str:
    """One line per series over the weeks."""
    figure = _figure(7, 2.6)
    axes = figure.add_subplot()
    colours = [GREEN, GREY, "#3b6fb6"]
    for (name, values), colour in zip(series, colours, strict=False):
        axes.plot(range(len(weeks)), values, marker="o", color=colour, label=name)
    step = max(1, len(weeks) // 8)
    axes.set_xticks(range(0, len(weeks), step), labels=list(weeks)[::step])
    axes.set_ylim(bottom=0)
    _counts(axes.yaxis, t)
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        label.set_fontproperties(_font(9))
    if len(series) > 1:
        axes.legend(prop=_font(9), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _data_uri(figure)


def sparkline(values: Sequence[int]) -> str:
    figure = _figure(1.6, 0.35)
    figure.subplots_adjust(left=0, right=1, top=1, bottom=0)
    axes = figure.add_subplot()
    axes.plot(range(len(values)), values, color=GREEN, linewidth=1.2)
    axes.set_ylim(bottom=0, top=max(1, *values) * 1.1)
    axes.axis("off")
    return _data_uri(figure)


def health_heatmap(health: Health, t: Speech) -> str:
    """The promise-health chart of Slack's App Home, as SVG, in the reader's language; none
    when the weeks hold no kudos (the table beside it says so)."""
    data = chart_data(health, t=t)
    if data.empty:
        return ""
    return _data_uri(chart_figure(data))
