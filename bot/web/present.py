"""The dashboard's tables: each page's numbers as titled tables, the one shape its HTML, JSON
and CSV are all made from, so the three can't disagree. Pure functions, no Flask."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

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
from bot.mission.service import PrincipleInfo
from bot.reports.health import Health
from bot.web import charts


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
    empty: str = "Nothing in this period."

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

    def principle_cell(self, info: PrincipleInfo) -> Link:
        return Link(_principle_label(info), self.principle(info))

    def person_cell(self, user_id: str) -> Cell:
        name = self.names.get(user_id, user_id)
        href = self.person(user_id)
        return Link(name, href) if href else name


def _principle_label(info: PrincipleInfo) -> str:
    return f"{info.number}. {info.title}" if info.number else f"{info.title} (retired)"


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "n/a"


def _change(now: int, before: int | None) -> str:
    if before is None:
        return ""
    if not before:
        return f"+{now}" if now else "0"
    return f"{now - before:+d} ({(now - before) / before:+.0%})"


def _week_label(week: Week) -> str:
    return f"{week.start:%-d %b %Y}"


def _weekly_table(name: str, title: str, series: Sequence[tuple[str, Sequence[Week]]]) -> Table:
    weeks = series[0][1]
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (w.start.isoformat(), *(s[i].count for _n, s in series)) for i, w in enumerate(weeks)
    )
    return Table(
        name,
        title,
        ("Week starting", *(n for n, _s in series)),
        rows,
        lambda: charts.weekly(
            [f"{w.start:%-d %b}" for w in weeks], [(n, [w.count for w in s]) for n, s in series]
        ),
        f"{title}, a line per series; the table beside it has the numbers.",
    )


def _principle_counts(
    name: str, title: str, counts: Sequence[PrincipleCount], links: Links
) -> Table:
    rows = tuple((links.principle_cell(c.principle.info), c.count) for c in counts)
    shown = [c for c in counts if c.count]
    return Table(
        name,
        title,
        ("Principle", "Kudos"),
        rows,
        (
            lambda: charts.bars(
                [_principle_label(c.principle.info) for c in shown], [c.count for c in shown]
            )
        )
        if shown
        else None,
        f"{title}, as bars; the table beside it has the numbers.",
    )


def overview_tables(data: Overview, links: Links) -> list[Table]:
    now, before, active = data.totals, data.previous, data.active_people
    previous = before or Totals(0, 0, 0)

    def row(label: str, pick: Callable[[Totals], int], percent: bool = False) -> tuple[Cell, ...]:
        value, old = pick(now), pick(previous) if before else None
        if percent:
            return (
                label,
                _percent(value, active),
                _percent(old, active) if old is not None else "",
                "",
            )
        return (label, value, old if old is not None else "", _change(value, old))

    summary = Table(
        "summary",
        "This period against the one before",
        ("Measure", "This period", "Previous period", "Change"),
        (
            row("Kudos", lambda t: t.kudos),
            row("People who gave", lambda t: t.givers),
            row("Share of active people who gave", lambda t: t.givers, percent=True),
            row("People who received", lambda t: t.receivers),
            row("Share of active people who received", lambda t: t.receivers, percent=True),
            ("Active people (not bots, not deactivated)", active, "", ""),
        ),
    )
    quiet = Table(
        "quiet",
        "Quiet principles (no kudos in this period)",
        ("Principle",),
        tuple((links.principle_cell(p),) for p in data.quiet),
        empty="None: every principle was recognised.",
    )
    return [
        summary,
        _weekly_table("weekly", "Kudos per week", [("Kudos", data.weekly)]),
        _principle_counts("by_principle", "Kudos by principle", data.by_principle, links),
        quiet,
    ]


def _share(row: PrincipleRow) -> str:
    share = row.top_share
    return "n/a" if share is None else f"{share:.0%}"


def principles_tables(rows: Sequence[PrincipleRow], links: Links) -> list[Table]:
    cells = tuple(
        (
            links.principle_cell(r.principle.info),
            r.kudos,
            r.givers,
            r.receivers,
            _share(r),
            Spark(tuple(w.count for w in r.weekly)),
        )
        for r in rows
    )
    return [
        Table(
            "principles",
            "Principles",
            ("Principle", "Kudos", "Givers", "Receivers", "Top-5 share", "Last 12 weeks"),
            cells,
            empty="No principles yet.",
        )
    ]


def _quotes_table(quotes: Sequence[Quote], links: Links, zone: ZoneInfo) -> Table:
    return Table(
        "kudos",
        "Recent kudos you may read",
        ("When", "From", "To", "Principle", "Words"),
        tuple(
            (
                f"{q.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
                links.person_cell(q.giver_id),
                links.person_cell(q.receiver_id),
                links.principle_cell(q.principle),
                q.message,
            )
            for q in quotes
        ),
        empty="No kudos you may read in this period: kudos given in private conversations "
        "are shown only to the people they name.",
    )


def principle_tables(detail: PrincipleDetail, links: Links, zone: ZoneInfo) -> list[Table]:
    row = detail.row
    summary = Table(
        "summary",
        _principle_label(row.principle.info),
        ("Measure", "This period"),
        (
            ("Kudos", row.kudos),
            ("Givers", row.givers),
            ("Receivers", row.receivers),
            ("Top-5 share", _share(row)),
        ),
    )
    return [
        summary,
        _weekly_table("history", "Kudos per week", [("Kudos", detail.history)]),
        _quotes_table(detail.quotes, links, zone),
    ]


def _when(instant: dt.datetime | None, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%Y-%m-%d}" if instant else "never"


def person_tables(page: PersonPage, links: Links, zone: ZoneInfo) -> list[Table]:
    summary = Table(
        "summary",
        links.names.get(page.user_id, page.user_id),
        ("Measure", "Value"),
        (
            ("Kudos received in this period", sum(c.count for c in page.received)),
            ("Kudos given in this period", sum(c.count for c in page.given)),
            ("First recognised", _when(page.first_recognised, zone)),
            ("Last recognised", _when(page.last_recognised, zone)),
        ),
    )
    return [
        summary,
        _weekly_table(
            "weekly",
            "Kudos received and given per week",
            [("Received", page.weekly_received), ("Given", page.weekly_given)],
        ),
        _principle_counts(
            "received", "Received by principle", [c for c in page.received if c.count], links
        ),
        _principle_counts("given", "Given by principle", [c for c in page.given if c.count], links),
        _quotes_table(page.quotes, links, zone),
    ]


def quiet_tables(data: QuietPeople, links: Links, zone: ZoneInfo) -> list[Table]:
    def listed(name: str, title: str, people: Sequence[object], total: int, last: str) -> Table:
        return Table(
            name,
            f"{title} ({total})",
            ("Person", last),
            tuple(
                (links.person_cell(p.user_id), _when(p.last, zone))  # type: ignore[attr-defined]
                for p in people
            ),
            empty="Nobody.",
        )

    return [
        listed(
            "not_recognised",
            "Not recognised in 60 days",
            data.not_recognised,
            data.not_recognised_total,
            "Last recognised",
        ),
        listed(
            "gave_nothing",
            "Gave nothing in 60 days",
            data.gave_nothing,
            data.gave_nothing_total,
            "Last gave",
        ),
    ]


def _board(name: str, title: str, entries: Sequence[Ranked], links: Links, weighted: bool) -> Table:
    columns = ("Rank", "Person", "Score", "Kudos") if weighted else ("Rank", "Person", "Kudos")
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
                [f"{e.rank}. {links.names.get(e.user_id, e.user_id)}" for e in shown],
                [e.kudos for e in shown],
            )
        )
        if shown
        else None,
        f"{title}, as bars; the table beside it has the numbers.",
    )


def leaderboard_tables(boards: Boards, links: Links) -> list[Table]:
    return [
        _board("receivers", "Most recognised", boards.receivers, links, False),
        _board("givers", "Most generous", boards.givers, links, False),
        _board(
            "weighted",
            "Recognised by the most people (Σ √ kudos from each giver)",
            boards.weighted,
            links,
            True,
        ),
    ]


def network_tables(data: Network, links: Links) -> list[Table]:
    groups = Table(
        "groups",
        "Kudos between user groups (rows gave, columns received)",
        ("From \\ to", *(g.name for g in data.groups)),
        tuple((group.name, *counts) for group, counts in zip(data.groups, data.kudos, strict=True)),
        empty="No user groups in this workspace (or Slack wouldn't list them).",
    )
    pairs = Table(
        "pairs",
        "Reciprocal pairs: each gave the other most of their kudos",
        ("Person", "Person", "First to second", "Second to first"),
        tuple(
            (
                links.person_cell(p.first),
                links.person_cell(p.second),
                p.first_to_second,
                p.second_to_first,
            )
            for p in data.pairs
        ),
        empty="No reciprocal pairs in this period.",
    )
    return [groups, pairs]


def health_tables(health: Health, links: Links) -> list[Table]:
    weeks = tuple(f"{w.start:%-d %b}" for w in health.weeks if w.start)
    principles = Table(
        "health",
        "Promise health",
        ("Principle", "Kudos", "Givers", "Receivers", "Top-5 share", *weeks),
        tuple(
            (
                links.principle_cell(p.principle),
                p.kudos,
                p.givers,
                p.receivers,
                "n/a" if p.top_share is None else f"{p.top_share:.0%}",
                *p.weekly,
            )
            for p in health.principles
        ),
        lambda: charts.health_heatmap(health),
        "Kudos per principle per week as a heatmap; the table has the numbers.",
    )
    quiet = Table(
        "quiet",
        "Quiet principles",
        ("Principle",),
        tuple((links.principle_cell(p),) for p in health.quiet),
        empty="None: every principle was recognised.",
    )
    return [principles, quiet]
