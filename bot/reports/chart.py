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
The chart's own words (title, weeks, the "others" row, the empty chart's sentence) and its
numbers are in the reader's language (`t`). `ChartData` is what both pictures draw: the
dashboard's SVG keeps its text as text (the browser finds a font for any script), while a PNG
rasterises it here with DejaVu Sans, which has no CJK glyphs, and this machine has no Japanese
font either (`fc-list :lang=ja` is empty). So a PNG is said in `png_speech`: the reader's
language when DejaVu Sans has a glyph for every character of its words, else the workspace's,
else English; never empty boxes. Principles' titles are drawn as the caller's `Health` names
them.
matplotlib (and numpy) are imported on the first chart, not with the bot: most processes never
draw one, and the import costs seconds of start-up and tens of megabytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.i18n.catalogs import SOURCE_LANGUAGE
from bot.i18n.speech import ENGLISH, N_, NP_, Speech, speech
from bot.reports.health import Health, PrincipleHealth, PrincipleTrend, Trend

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import Text

CHART_ROWS = 12
LABEL_LIMIT = 40
DPI = 100
NO_KUDOS = N_("No kudos in these 12 weeks yet.\nThe chart fills in as people recognise each other.")
TITLE = N_("Kudos per principle per week, {first} to {last}")
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
    # Said when there is nothing to plot, and whose numbers the cells are written in. Defaults
    # for a digest's chart stored by an older version (bot/slack/outbound/daily.py).
    note: str = NO_KUDOS
    language: str = SOURCE_LANGUAGE

    @property
    def empty(self) -> bool:
        return not any(any(row) for row in self.values)


def _clip(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _label(number: int | None, title: str) -> str:
    return f"{number}. {title}" if number else title


def chart_data(health: Health | Trend, rows: int = CHART_ROWS, t: Speech = ENGLISH) -> ChartData:
    """The top `rows` principles by kudos over the weeks, then "others" summing the rest (of a
    health report, or of its trend alone: the digest's);
    the chart's own words and numbers in `t`'s language (for a PNG, see `png_speech`)."""
    principles: Sequence[PrincipleHealth | PrincipleTrend] = health.principles
    ranked = sorted(principles, key=lambda p: (-sum(p.weekly), p.retired, p.principle.number or 0))
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
        title=t.gettext(TITLE).format(
            first=t.short_day(first.start), last=t.date(last.end - dt.timedelta(days=1), "medium")
        ),
        note=t.gettext(NO_KUDOS),
        language=t.language,
    )


@cache
def _glyphs() -> frozenset[str]:
    """The characters both DejaVu Sans files (regular and bold) can draw."""
    from matplotlib.ft2font import FT2Font

    regular, bold = (set(FT2Font(str(_font_file(b))).get_charmap()) for b in (False, True))
    return frozenset(map(chr, regular & bold))


@cache
def drawable(language: str) -> bool:
    """Whether a PNG chart's own words in `language` have glyphs in the font: its title and
    weeks in every month, its "others" row, its empty sentence (matplotlib would draw boxes)."""
    t = speech(language)
    days = [dt.date(2026, month, 28) for month in range(1, 13)]
    words = [
        t.gettext(TITLE).format(first=t.short_day(days[0]), last=t.date(days[-1], "medium")),
        t.gettext(NO_KUDOS),
        *(t.ngettext(*OTHERS, n).format(count=t.number(n)) for n in (1, 2, 1234)),
        *(t.short_day(day) for day in days),
        *(t.date(day, "medium") for day in days),
    ]
    glyphs = _glyphs()
    return all(ch in glyphs for ch in "".join(words) if not ch.isspace())


def png_speech(t: Speech, workspace: Callable[[], Speech] | None = None) -> Speech:
    """What a PNG chart for a reader of `t` is said in: `t` when the font draws it, else the
    workspace language (asked only then; None: `t` is the workspace's), else English.
    Without a CJK font (none here: `fc-list :lang=ja` is empty, and matplotlib ships none), a
    Japanese reader gets the workspace's words rather than empty boxes; the dashboard's SVG
    stays in Japanese."""
    if drawable(t.language):
        return t
    shared = workspace() if workspace is not None else t
    return shared if drawable(shared.language) else ENGLISH


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
            0.5, 0.35, data.note, ha="center", va="center", fontproperties=_font(11)
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
    number = speech(data.language).number
    for y, row in enumerate(data.values):
        for x, count in enumerate(row):
            if count:
                axes.text(
                    x,
                    y,
                    number(count),
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


def health_chart_png(health: Health, t: Speech = ENGLISH) -> bytes:
    """The chart as a PNG for the workspace (`missionbot health --format png`): `t` is the
    workspace language, or English where the font has no glyphs for it."""
    return chart_png(chart_data(health, t=png_speech(t)))
