"""The promise-health chart: kudos per principle per week over the last 12 weeks, as a PNG.

A heatmap rather than twelve tangled lines: one row per principle, one column per week, each
cell its count, darker for more, so a manager sees at a glance which promises are lived and
which rows have gone pale. At most 12 principle rows, the most recognised over the 12 weeks
(ties in file order); the rest are summed into one "others" row, so 250 principles stay as
readable as five. With no kudos at all in the 12 weeks the image says so in words instead of
drawing empty axes.

Drawn with matplotlib's object API and its Agg canvas (no pyplot, no global state, no display:
safe in the bot's threads), with the DejaVu Sans font matplotlib ships, named by file, so a
machine without that font installed (or with a broken font cache) draws the same chart.
Text is drawn literally: a `$` in a principle's title is not taken for mathematics.
The chart's own words (title, weeks, the "others" row) are in the reader's language (`t`),
except where DejaVu Sans has no glyphs for it (Japanese): those readers get them in English
rather than empty boxes. Principles' titles are drawn as the caller's `Health` names them.
matplotlib (and numpy) are imported on the first chart, not with the bot: most processes never
draw one, and the import costs seconds of start-up and tens of megabytes.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.i18n.speech import ENGLISH, NP_, Speech
from bot.reports.health import Health

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import Text

CHART_ROWS = 12
LABEL_LIMIT = 40
DPI = 100
NO_KUDOS = "No kudos in these 12 weeks yet.\nThe chart fills in as people recognise each other."
# Languages whose script DejaVu Sans can't draw (no CJK glyphs), and no font on the machine
# is looked up (see above): the chart's own words stay English for these readers.
NO_GLYPHS = frozenset({"ja"})
OTHERS = NP_("others ({count} principle)", "others ({count} principles)")


@cache
def _font_file(bold: bool) -> Path:
    """DejaVu Sans as matplotlib ships it, by path: no font lookup, no font cache."""
    import matplotlib

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return fonts / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")


def _font(size: float, *, bold: bool = False) -> FontProperties:
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=_font_file(bold), size=size)


@dataclass(frozen=True, slots=True)
class ChartData:
    """What the chart plots: row labels (principles, then maybe "others"), week labels, counts."""

    rows: tuple[str, ...]
    weeks: tuple[str, ...]
    values: tuple[tuple[int, ...], ...]  # values[row][week]
    title: str

    @property
    def empty(self) -> bool:
        return not any(any(row) for row in self.values)


def _clip(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _label(number: int | None, title: str) -> str:
    return f"{number}. {title}" if number else title


def chart_data(health: Health, rows: int = CHART_ROWS, t: Speech = ENGLISH) -> ChartData:
    """The top `rows` principles by kudos over the weeks, then "others" summing the rest;
    the chart's own words in `t`'s language (English where the font can't draw it)."""
    if t.language in NO_GLYPHS:
        t = ENGLISH
    ranked = sorted(
        health.principles, key=lambda p: (-sum(p.weekly), p.retired, p.principle.number or 0)
    )
    shown, rest = ranked[:rows], ranked[rows:]
    labels = [_clip(_label(p.principle.number, p.principle.title)) for p in shown]
    values = [tuple(p.weekly) for p in shown]
    if rest:
        labels.append(t.ngettext(*OTHERS, len(rest)).format(count=t.number(len(rest))))
        values.append(tuple(sum(week) for week in zip(*(p.weekly for p in rest), strict=True)))
    first, last = health.weeks[0], health.weeks[-1]
    assert first.start is not None
    assert last.end is not None
    return ChartData(
        rows=tuple(labels),
        weeks=tuple(t.short_day(week.start) for week in health.weeks if week.start),
        values=tuple(values),
        title=t.gettext("Kudos per principle per week, {first} to {last}").format(
            first=t.short_day(first.start), last=t.date(last.end - dt.timedelta(days=1), "medium")
        ),
    )


def _literal(text: Text, font: FontProperties) -> None:
    text.set_parse_math(False)
    text.set_fontproperties(font)


def chart_figure(data: ChartData) -> Figure:
    """The figure for `data`: a heatmap, or a sentence when there is nothing to plot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if data.empty or not data.rows:
        figure = Figure(figsize=(8, 2.4), dpi=DPI)
        FigureCanvasAgg(figure)
        figure.text(
            0.5, 0.6, data.title, ha="center", va="center", fontproperties=_font(12, bold=True)
        ).set_parse_math(False)
        figure.text(
            0.5, 0.35, NO_KUDOS, ha="center", va="center", fontproperties=_font(11)
        ).set_parse_math(False)
        return figure
    height = 1.6 + 0.42 * len(data.rows)
    figure = Figure(figsize=(11, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    peak = max(max(row) for row in data.values)
    axes.imshow(data.values, cmap="Greens", aspect="auto", vmin=0, vmax=max(peak, 1))
    axes.set_xticks(range(len(data.weeks)), labels=data.weeks)
    axes.set_yticks(range(len(data.rows)), labels=data.rows)
    axes.tick_params(length=0)
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        _literal(label, _font(9))
    cell = _font(9)
    for y, row in enumerate(data.values):
        for x, count in enumerate(row):
            if count:
                axes.text(
                    x,
                    y,
                    str(count),
                    ha="center",
                    va="center",
                    color="white" if count > peak * 0.6 else "black",
                    fontproperties=cell,
                )
    for side in axes.spines.values():
        side.set_visible(False)
    _literal(axes.set_title(data.title, loc="left"), _font(12, bold=True))
    return figure


def chart_png(data: ChartData) -> bytes:
    out = io.BytesIO()
    chart_figure(data).savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def health_chart_png(health: Health) -> bytes:
    return chart_png(chart_data(health))
