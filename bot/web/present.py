"""The dashboard's tables: each page's numbers as titled tables, the one shape its HTML, JSON
and CSV are all made from, so the three can't disagree. Pure functions, no Flask.

Every function takes `t`, the `Speech` the table is said in: the viewer's for a page, and
`INTERFACE` for JSON and CSV, which are an interface programs read, so their column names,
labels, dates (ISO) and numbers stay what they always were, whoever asks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent

from bot.i18n import ENGLISH, Speech
from bot.insights.numbers import (
    Boards,
    Network,
    Overview,
    PersonPage,
    PrincipleCount,
    PrincipleDetail,
    PrincipleRow,
    QuietPeople,
    Quote,
    Ranked,
    Totals,
    Week,
)
from bot.insights.window import Window
from bot.mission.service import PrincipleInfo
from bot.reports.health import Health
from bot.reports.periods import PeriodKind
from bot.web import charts

# JSON's and CSV's words: English, ISO dates and Python's numbers (a Speech of its own, told
# apart from a person reading English by identity).
INTERFACE = dataclasses.replace(ENGLISH)


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    href: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Spark:
    """A row's 12 weeks: drawn as a sparkline, given as numbers in JSON and CSV."""

    values: tuple[int, ...]

    @property
    def image(self) -> str:
        """Drawn when a page shows it (JSON and CSV never do)."""
        return charts.sparkline(self.values)

    def __str__(self) -> str:
        return " ".join(str(v) for v in self.values)


Cell = str | int | float | Link | Spark | None


@dataclass(frozen=True, slots=True)
class Table:
    name: str  # for ?format=csv&table=name and the JSON's keys
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    # Draws the chart as a data: URI, when a page shows it (JSON and CSV never do).
    draw: Callable[[], str] | None = None
    chart_alt: str = ""
    empty: str = ""

    @property
    def chart(self) -> str | None:
        return self.draw() if self.draw is not None else None

    def records(self) -> list[dict[str, object]]:
        return [
            {column: _plain(cell) for column, cell in zip(self.columns, row, strict=True)}
            for row in self.rows
        ]


def _plain(cell: Cell) -> object:
    if isinstance(cell, Spark):
        return list(cell.values)
    if isinstance(cell, Link):
        return cell.text
    return cell


@dataclass(frozen=True, slots=True)
class Links:
    """How a page links to a principle's page and a person's (None: not for this viewer)."""

    principle: Callable[[PrincipleInfo], str]
    person: Callable[[str], str | None]
    names: Mapping[str, str] = field(default_factory=dict)
    t: Speech = INTERFACE

    def principle_cell(self, info: PrincipleInfo) -> Link:
        return Link(principle_label(info, self.t), self.principle(info))

    def person_cell(self, user_id: str) -> Cell:
        name = self.names.get(user_id, user_id)
        href = self.person(user_id)
        return Link(name, href) if href else name


def period_label(window: Window, t: Speech) -> str:
    """What a page covers, as the reader writes it: 'November 2026', 'November 2026',
    'novembre 2026', '2026年11月'; a week by its Monday; a custom range by its dates."""
    start, end = window.start, window.end
    if start is None or end is None:
        return t.gettext("All time")
    if window.kind is None:
        last = end - dt.timedelta(days=1)
        return t.gettext("{first} to {last}").format(
            first=t.date(start, "medium"), last=t.date(last, "medium")
        )
    if window.kind == PeriodKind.WEEK:
        return t.gettext("The week of {day}").format(day=t.date(start, "long"))
    if window.kind == PeriodKind.MONTH:
        return format_skeleton("yMMMM", start, locale=t.locale)
    if window.kind == PeriodKind.QUARTER:
        return format_skeleton("yQQQ", start, locale=t.locale)
    return str(start.year)


def principle_label(info: PrincipleInfo, t: Speech) -> str:
    """'1. Plain words' (in the reader's language where the mission file translates it)."""
    shown = info.in_language(t.language)
    if info.number:
        # The number is the principle's name in `/kudos … #3`: digits as people type them.
        return t.gettext("{number}. {title}").format(number=info.number, title=shown.title)
    return t.gettext("{title} (retired)").format(title=shown.title)


def _na(t: Speech) -> str:
    return "n/a" if t is INTERFACE else t.gettext("n/a")


def _ratio(value: float, t: Speech, signed: bool = False) -> str:
    if t is INTERFACE:
        return f"{value:+.0%}" if signed else f"{value:.0%}"
    # The locale's own pattern (German and French put a space before %), signed by hand.
    said = format_percent(value, locale=t.locale)
    return f"+{said}" if signed and value >= 0 else said


def _percent(part: int, whole: int, t: Speech) -> str:
    return _ratio(part / whole, t) if whole else _na(t)


def _whole(value: int, t: Speech) -> str:
    """A count inside words: '1.234' / '1 234' to a reader, '1234' to a program."""
    return str(value) if t is INTERFACE else t.number(value)


def _signed(value: int, t: Speech) -> str:
    return f"{value:+d}" if t is INTERFACE else format_decimal(value, "+#,##0;-#,##0", t.locale)


def _change(now: int, before: int | None, t: Speech) -> str:
    if before is None:
        return ""
    if not before:
        return _signed(now, t) if now else "0"
    return f"{_signed(now - before, t)} ({_ratio((now - before) / before, t, signed=True)})"


def _short_day(day: dt.date, t: Speech) -> str:
    return f"{day:%-d %b}" if t is INTERFACE else t.short_day(day)


def _weekly_table(
    name: str, title: str, series: Sequence[tuple[str, Sequence[Week]]], t: Speech
) -> Table:
    _ = t.gettext
    weeks = series[0][1]
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (
            w.start.isoformat() if t is INTERFACE else t.date(w.start, "medium"),
            *(s[i].count for _n, s in series),
        )
        for i, w in enumerate(weeks)
    )
    return Table(
        name,
        title,
        (_("Week starting"), *(n for n, _s in series)),
        rows,
        lambda: charts.weekly(
            [_short_day(w.start, t) for w in weeks],
            [(n, [w.count for w in s]) for n, s in series],
            t,
        ),
        _("{title}, a line per series; the table beside it has the numbers.").format(title=title),
    )


def _principle_counts(
    name: str, title: str, counts: Sequence[PrincipleCount], links: Links
) -> Table:
    t = links.t
    _ = t.gettext
    rows = tuple((links.principle_cell(c.principle.info), c.count) for c in counts)
    shown = [c for c in counts if c.count]
    return Table(
        name,
        title,
        (_("Principle"), _("Kudos")),
        rows,
        (
            lambda: charts.bars(
                [principle_label(c.principle.info, t) for c in shown],
                [c.count for c in shown],
                t,
            )
        )
        if shown
        else None,
        _("{title}, as bars; the table beside it has the numbers.").format(title=title),
        _("Nothing in this period."),
    )


def overview_tables(data: Overview, links: Links) -> list[Table]:
    t = links.t
    _ = t.gettext
    now, before, active = data.totals, data.previous, data.active_people
    previous = before or Totals(0, 0, 0)

    def row(label: str, pick: Callable[[Totals], int], percent: bool = False) -> tuple[Cell, ...]:
        value, old = pick(now), pick(previous) if before else None
        if percent:
            return (
                label,
                _percent(value, active, t),
                _percent(old, active, t) if old is not None else "",
                "",
            )
        return (label, value, old if old is not None else "", _change(value, old, t))

    summary = Table(
        "summary",
        _("This period against the one before"),
        (_("Measure"), _("This period"), _("Previous period"), _("Change")),
        (
            row(_("Kudos"), lambda n: n.kudos),
            row(_("People who gave"), lambda n: n.givers),
            row(_("Share of active people who gave"), lambda n: n.givers, percent=True),
            row(_("People who received"), lambda n: n.receivers),
            row(_("Share of active people who received"), lambda n: n.receivers, percent=True),
            (_("Active people (not bots, not deactivated)"), active, "", ""),
        ),
    )
    quiet = Table(
        "quiet",
        _("Quiet principles (no kudos in this period)"),
        (_("Principle"),),
        tuple((links.principle_cell(p),) for p in data.quiet),
        empty=_("None: every principle was recognised."),
    )
    return [
        summary,
        _weekly_table("weekly", _("Kudos per week"), [(_("Kudos"), data.weekly)], t),
        _principle_counts("by_principle", _("Kudos by principle"), data.by_principle, links),
        quiet,
    ]


def _share(share: float | None, t: Speech) -> str:
    return _na(t) if share is None else _ratio(share, t)


def principles_tables(rows: Sequence[PrincipleRow], links: Links) -> list[Table]:
    t = links.t
    _ = t.gettext
    cells = tuple(
        (
            links.principle_cell(r.principle.info),
            r.kudos,
            r.givers,
            r.receivers,
            _share(r.top_share, t),
            Spark(tuple(w.count for w in r.weekly)),
        )
        for r in rows
    )
    return [
        Table(
            "principles",
            _("Principles"),
            (
                _("Principle"),
                _("Kudos"),
                _("Givers"),
                _("Receivers"),
                _("Top-5 share"),
                _("Last 12 weeks"),
            ),
            cells,
            empty=_("No principles yet."),
        )
    ]


def _moment(instant: dt.datetime, zone: ZoneInfo, t: Speech) -> str:
    local = instant.astimezone(zone)
    if t is INTERFACE:
        return f"{local:%Y-%m-%d %H:%M}"
    return f"{t.date(local.date(), 'medium')} {t.time(local.time())}"


def _quotes_table(quotes: Sequence[Quote], links: Links, zone: ZoneInfo) -> Table:
    t = links.t
    _ = t.gettext
    return Table(
        "kudos",
        _("Recent kudos you may read"),
        (_("When"), _("From"), _("To"), _("Principle"), _("Words")),
        tuple(
            (
                _moment(q.created_at, zone, t),
                links.person_cell(q.giver_id),
                links.person_cell(q.receiver_id),
                links.principle_cell(q.principle),
                q.message,
            )
            for q in quotes
        ),
        empty=_(
            "No kudos you may read in this period: kudos given in private conversations "
            "are shown only to the people they name."
        ),
    )


def principle_tables(detail: PrincipleDetail, links: Links, zone: ZoneInfo) -> list[Table]:
    t = links.t
    _ = t.gettext
    row = detail.row
    summary = Table(
        "summary",
        principle_label(row.principle.info, t),
        (_("Measure"), _("This period")),
        (
            (_("Kudos"), row.kudos),
            (_("Givers"), row.givers),
            (_("Receivers"), row.receivers),
            (_("Top-5 share"), _share(row.top_share, t)),
        ),
    )
    return [
        summary,
        _weekly_table("history", _("Kudos per week"), [(_("Kudos"), detail.history)], t),
        _quotes_table(detail.quotes, links, zone),
    ]


def _when(instant: dt.datetime | None, zone: ZoneInfo, t: Speech) -> str:
    if instant is None:
        return "never" if t is INTERFACE else t.gettext("never")
    local = instant.astimezone(zone).date()
    return local.isoformat() if t is INTERFACE else t.date(local, "medium")


def person_tables(page: PersonPage, links: Links, zone: ZoneInfo) -> list[Table]:
    t = links.t
    _ = t.gettext
    summary = Table(
        "summary",
        links.names.get(page.user_id, page.user_id),
        (_("Measure"), _("Value")),
        (
            (_("Kudos received in this period"), sum(c.count for c in page.received)),
            (_("Kudos given in this period"), sum(c.count for c in page.given)),
            (_("First recognised"), _when(page.first_recognised, zone, t)),
            (_("Last recognised"), _when(page.last_recognised, zone, t)),
        ),
    )
    return [
        summary,
        _weekly_table(
            "weekly",
            _("Kudos received and given per week"),
            [(_("Received"), page.weekly_received), (_("Given"), page.weekly_given)],
            t,
        ),
        _principle_counts(
            "received", _("Received by principle"), [c for c in page.received if c.count], links
        ),
        _principle_counts(
            "given", _("Given by principle"), [c for c in page.given if c.count], links
        ),
        _quotes_table(page.quotes, links, zone),
    ]


def quiet_tables(data: QuietPeople, links: Links, zone: ZoneInfo) -> list[Table]:
    t = links.t
    _ = t.gettext

    def listed(name: str, title: str, people: Sequence[object], last: str) -> Table:
        return Table(
            name,
            title,
            (_("Person"), last),
            tuple(
                (links.person_cell(p.user_id), _when(p.last, zone, t))  # type: ignore[attr-defined]
                for p in people
            ),
            empty=_("Nobody."),
        )

    return [
        listed(
            "not_recognised",
            t.ngettext(
                "Not recognised in 60 days ({count} person)",
                "Not recognised in 60 days ({count} people)",
                data.not_recognised_total,
            ).format(count=_whole(data.not_recognised_total, t)),
            data.not_recognised,
            _("Last recognised"),
        ),
        listed(
            "gave_nothing",
            t.ngettext(
                "Gave nothing in 60 days ({count} person)",
                "Gave nothing in 60 days ({count} people)",
                data.gave_nothing_total,
            ).format(count=_whole(data.gave_nothing_total, t)),
            data.gave_nothing,
            _("Last gave"),
        ),
    ]


def _board(name: str, title: str, entries: Sequence[Ranked], links: Links, weighted: bool) -> Table:
    t = links.t
    _ = t.gettext
    columns = (
        (_("Rank"), _("Person"), _("Score"), _("Kudos"))
        if weighted
        else (_("Rank"), _("Person"), _("Kudos"))
    )
    rows = tuple(
        (e.rank, links.person_cell(e.user_id), round(e.score, 2), e.kudos)
        if weighted
        else (e.rank, links.person_cell(e.user_id), e.kudos)
        for e in entries
    )
    shown = list(entries)
    return Table(
        name,
        title,
        columns,
        rows,
        (
            lambda: charts.bars(
                [f"{_whole(e.rank, t)}. {links.names.get(e.user_id, e.user_id)}" for e in shown],
                [e.kudos for e in shown],
                t,
            )
        )
        if shown
        else None,
        _("{title}, as bars; the table beside it has the numbers.").format(title=title),
        _("Nothing in this period."),
    )


def leaderboard_tables(boards: Boards, links: Links) -> list[Table]:
    _ = links.t.gettext
    return [
        _board("receivers", _("Most recognised"), boards.receivers, links, False),
        _board("givers", _("Most generous"), boards.givers, links, False),
        _board(
            "weighted",
            _("Recognised by the most people (Σ √ kudos from each giver)"),
            boards.weighted,
            links,
            True,
        ),
    ]


def network_tables(data: Network, links: Links) -> list[Table]:
    _ = links.t.gettext
    groups = Table(
        "groups",
        _("Kudos between user groups (rows gave, columns received)"),
        (_("From \\ to"), *(g.name for g in data.groups)),
        tuple((group.name, *counts) for group, counts in zip(data.groups, data.kudos, strict=True)),
        empty=_("No user groups in this workspace (or Slack wouldn't list them)."),
    )
    pairs = Table(
        "pairs",
        _("Reciprocal pairs: each gave the other most of their kudos"),
        (_("Person"), _("Person"), _("First to second"), _("Second to first")),
        tuple(
            (
                links.person_cell(p.first),
                links.person_cell(p.second),
                p.first_to_second,
                p.second_to_first,
            )
            for p in data.pairs
        ),
        empty=_("No reciprocal pairs in this period."),
    )
    return [groups, pairs]


def health_tables(health: Health, links: Links) -> list[Table]:
    t = links.t
    _ = t.gettext
    weeks = tuple(_short_day(w.start, t) for w in health.weeks if w.start)
    principles = Table(
        "health",
        _("Promise health"),
        (_("Principle"), _("Kudos"), _("Givers"), _("Receivers"), _("Top-5 share"), *weeks),
        tuple(
            (
                links.principle_cell(p.principle),
                p.kudos,
                p.givers,
                p.receivers,
                _share(p.top_share, t),
                *p.weekly,
            )
            for p in health.principles
        ),
        lambda: charts.health_heatmap(health, t),
        _("Kudos per principle per week as a heatmap; the table has the numbers."),
        _("Nothing in this period."),
    )
    quiet = Table(
        "quiet",
        _("Quiet principles"),
        (_("Principle"),),
        tuple((links.principle_cell(p),) for p in health.quiet),
        empty=_("None: every principle was recognised."),
    )
    return [principles, quiet]
