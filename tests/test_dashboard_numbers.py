"""The dashboard's numbers read from the read model (bot/insights/numbers.py) against the raw
kudos, on SQLite and PostgreSQL: the weighted board scored only for the receivers who can
reach its top against the whole-period aggregate (bot/reports/weighted.py), the 60-day lists
against a probe of the kudos per person, a principle's history against its raw weeks, for
random periods, timezones, principles and board sizes (ties at the last place included)."""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, exists, func, literal, select, text, union

from bot.db.engine import Database
from bot.db.models import Kudos
from bot.db.models import Person as PersonRow
from bot.insights import numbers
from bot.insights.window import Filters, Window, parse_window
from bot.reports import summaries, weighted
from bot.reports.health import TOP_RECEIVERS, kudos_of_pairs, reciprocal_pairs
from bot.reports.leaderboard import Role, counted, leaderboard
from bot.reports.periods import Period, PeriodKind
from bot.reports.weighted import weighted_leaderboard
from tests.support.reports import kudos_row, principle_ids, seed, sync

TEAM = "T0NUMBERS"
PEOPLE = [f"UN{n:03d}X" for n in range(14)]
START = dt.datetime(2025, 12, 20, tzinfo=dt.UTC)
DAYS = 75
TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
CHANNELS = ["CGENERAL01", "CGENERAL01", "CTEAM0002", None]
ZONES = ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "America/New_York"]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def history(database: Database) -> dict[str, int]:
    """Kudos whose weighted scores sit far from their counts: a few receivers get many kudos
    from one friend (a loose bound), others one each from many people; some tie exactly
    (four from one person score as one each from two); a tenth withdrawn; people active,
    deactivated or without kudos for months."""
    rng = random.Random(2112)
    sync(database, TEAM)
    pids = principle_ids(database, TEAM)
    with database.transaction() as session:
        for n, user in enumerate(PEOPLE):
            session.add(PersonRow(team_id=TEAM, user_id=user, name=user, deleted=n == 13))
    rows = []
    for _ in range(500):
        receiver = rng.choice(PEOPLE[:11])
        if receiver in PEOPLE[:3]:
            giver = PEOPLE[(PEOPLE.index(receiver) + 1) % 11]  # the one friend
        else:
            giver = rng.choice([p for p in PEOPLE if p != receiver])
        at = START + dt.timedelta(seconds=rng.randrange(DAYS * 86_400))
        rows.append(
            kudos_row(
                TEAM,
                giver,
                receiver,
                rng.choice(list(pids.values())),
                at,
                withdrawn=rng.random() < 0.1,
                channel=rng.choice(CHANNELS),
            )
        )
    seed(database, rows)
    return pids


periods = st.sampled_from(["week", "month", "quarter", "year", "all", "2026-01", "2026-02"])


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    principle=st.sampled_from([None, "plain-words", "no-surprises"]),
    top=st.integers(min_value=1, max_value=6),
)
def test_the_weighted_top_ranks_as_the_whole_aggregate(
    database: Database,
    history: dict[str, int],
    zone: str,
    period: str,
    principle: str | None,
    top: int,
) -> None:
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    pid = history[principle] if principle else None
    with database.reading() as session:
        info = next(
            (r.info for r in numbers.principles(session, TEAM).values() if r.info.id == pid), None
        )
        fast = numbers.weighted_top(session, TEAM, window.bounds, pid, top)
        whole = weighted_leaderboard(
            session=session,
            team_id=TEAM,
            period=Period(window.kind or PeriodKind.MONTH, window.start, window.end),
            bounds=window.bounds,
            principle=info,
            top=top,
        )
    expected = [(s.rank, s.user_id, round(s.score, 9), s.kudos) for s in whole.entries]
    assert [(r.rank, r.user_id, round(r.score, 9), r.kudos) for r in fast] == expected


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    principle=st.sampled_from([None, "plain-words", "no-surprises"]),
    top=st.integers(min_value=1, max_value=6),
    caller=st.sampled_from([None, *PEOPLE]),
)
def test_the_tallied_weighted_board_equals_the_raw_aggregate(
    database: Database,
    history: dict[str, int],
    zone: str,
    period: str,
    principle: str | None,
    top: int,
    caller: str | None,
) -> None:
    """`/kudos leaderboard … weighted` from the read model and the pair tallies (a period
    within one UTC quarter but for a few hours: the history crosses a quarter's end, and a
    local month in Kolkata or Chatham starts in the UTC quarter before) equals the board
    of the raw kudos: ranks, scores, kudos, givers, the caller's place, people and kudos."""
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    pid = history[principle] if principle else None

    def board(found: weighted.Counted) -> tuple[object, ...]:
        standings, people, kudos = found
        return (
            [(s.rank, s.user_id, round(s.score, 9), s.kudos, s.givers) for s in standings],
            people,
            kudos,
        )

    with database.reading() as session:
        tallied = weighted._tallied(session, TEAM, window.bounds, pid, caller, top)
        raw = weighted._from_raw(session, TEAM, window.bounds, pid, caller, top)
    if window.start is not None and (window.end or TODAY) - window.start < dt.timedelta(days=93):
        assert tallied is not None  # a week, a month, a quarter: within one quarter's bucket
    if period == "all" and pid is None:
        assert tallied is not None  # the all-time pair tallies (migration 0020)
    if tallied is not None:
        assert board(tallied) == board(raw)


@SETTINGS
@given(receivers=st.lists(st.sampled_from([*PEOPLE, "UNOBODY1X"]), max_size=6, unique=True))
def test_some_receivers_all_time_scores_are_the_whole_boards(
    database: Database, history: dict[str, int], receivers: list[str]
) -> None:
    """The dashboard's all-time top scores a few receivers from their tallies and repeated
    pairs (`weighted.tallied_scores`): each one's score and compared score are those of the
    board of every receiver's raw kudos; a receiver without kudos has none."""
    with database.reading() as session:
        found = weighted.tallied_scores(session, TEAM, receivers)
        everyone, _people, _kudos = weighted._from_raw(
            session, TEAM, (None, None), None, None, len(PEOPLE)
        )
    whole = {s.user_id: s.score for s in everyone}
    assert sorted(found) == sorted(user for user in receivers if user in whole)
    for user, (compared, score) in found.items():
        assert round(score, 9) == round(whole[user], 9)
        assert compared == round(Decimal(str(whole[user])), weighted.SCORE_PLACES)


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    principle=st.sampled_from([None, "plain-words"]),
    seed_pairs=st.integers(min_value=0, max_value=2**16),
)
def test_pairs_counted_from_their_receivers_kudos_are_the_raw_counts(
    database: Database,
    history: dict[str, int],
    zone: str,
    period: str,
    principle: str | None,
    seed_pairs: int,
) -> None:
    """`kudos_of_pairs` (each receiver's kudos of the period read once, grouped per giver)
    gives each pair asked about its raw standing kudos in the period, pairs with none left
    out, pairs asked about twice from both ends alike."""
    rng = random.Random(seed_pairs)
    asked = {(rng.choice(PEOPLE), rng.choice(PEOPLE)) for _ in range(rng.randrange(1, 12))}
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    pid = history[principle] if principle else None
    pairs = union(
        *(select(literal(g).label("giver_id"), literal(r).label("receiver_id")) for g, r in asked)
    ).cte("asked")
    with database.reading() as session:
        found = kudos_of_pairs(TEAM, window.bounds, pairs, pid)
        got = {(g, r): n for g, r, n in session.execute(select(found))}
        conditions = counted(TEAM, window.bounds)
        if pid is not None:
            conditions.append(Kudos.principle_id == pid)
        raw = Counter(
            (g, r)
            for g, r in session.execute(
                select(Kudos.giver_id, Kudos.receiver_id).where(*conditions)
            )
            if (g, r) in asked
        )
    assert got == dict(raw)


def _quiet_reference(
    database: Database, now: dt.datetime, members: frozenset[str] | None
) -> list[tuple[list[tuple[str, dt.datetime | None]], int]]:
    """The 60-day lists as a probe of the raw kudos per person."""
    since = now - dt.timedelta(days=numbers.INACTIVE_DAYS)
    found = []
    with database.reading() as session:
        for who in (Kudos.receiver_id, Kudos.giver_id):
            recent = exists(
                select(Kudos.id).where(*counted(TEAM, (since, None)), who == PersonRow.user_id)
            )
            last = (
                select(func.max(Kudos.created_at))
                .where(*counted(TEAM, (None, None)), who == PersonRow.user_id)
                .scalar_subquery()
            )
            conditions = [summaries.active_people(TEAM), ~recent]
            if members is not None:
                conditions.append(PersonRow.user_id.in_(sorted(members)))
            rows = session.execute(
                select(PersonRow.user_id, last).where(*conditions).order_by(PersonRow.user_id)
            ).all()
            found.append(
                (
                    sorted((user, numbers._utc(at)) for user, at in rows),
                    len(rows),
                )
            )
    return found


@SETTINGS
@given(
    days=st.integers(min_value=-5, max_value=DAYS + 70),
    seconds=st.integers(min_value=0, max_value=86_399),
    grouped=st.booleans(),
)
def test_the_60_day_lists_are_the_raw_kudos_lists(
    database: Database, history: dict[str, int], days: int, seconds: int, grouped: bool
) -> None:
    now = START + dt.timedelta(days=days, seconds=seconds)
    members = frozenset(PEOPLE[::2]) if grouped else None
    with database.reading() as session:
        quiet = numbers.quiet_people(session, TEAM, Filters(members=members), now=now)
    got = [
        (sorted((q.user_id, q.last) for q in quiet.not_recognised), quiet.not_recognised_total),
        (sorted((q.user_id, q.last) for q in quiet.gave_nothing), quiet.gave_nothing_total),
    ]
    assert got == _quiet_reference(database, now, members)
    with database.reading() as session:
        first = numbers.quiet_people(session, TEAM, Filters(members=members), now=now, listed=1)
    assert first.not_recognised == quiet.not_recognised[:1]
    assert first.gave_nothing_total == quiet.gave_nothing_total


@pytest.fixture
def everyone_seen(database: Database, history: dict[str, int]) -> None:
    """`history` with a directory of those who have received and given at some time (and the
    deactivated one), so that the 60-day lists are read from `kudos_latest`'s index alone."""
    with database.transaction() as session:
        for who in (Kudos.receiver_id, Kudos.giver_id):
            session.execute(
                PersonRow.__table__.delete().where(
                    PersonRow.team_id == TEAM,
                    PersonRow.deleted.is_(False),
                    ~exists(
                        select(Kudos.id).where(Kudos.team_id == TEAM, who == PersonRow.user_id)
                    ),
                )
            )
    with database.reading() as session:
        assert set(summaries.people_without_latest(session, TEAM).values()) == {0}


@SETTINGS
@given(
    days=st.integers(min_value=-5, max_value=DAYS + 70),
    seconds=st.integers(min_value=0, max_value=86_399),
    grouped=st.booleans(),
)
def test_the_60_day_lists_from_the_latest_kudos_are_the_raw_kudos_lists(
    database: Database, everyone_seen: None, days: int, seconds: int, grouped: bool
) -> None:
    """Those whose latest kudos is before the 60 days, or withdrawn, and nobody else."""
    now = START + dt.timedelta(days=days, seconds=seconds)
    members = frozenset(PEOPLE[::2]) if grouped else None
    with database.reading() as session:
        quiet = numbers.quiet_people(session, TEAM, Filters(members=members), now=now)
    got = [
        (sorted((q.user_id, q.last) for q in quiet.not_recognised), quiet.not_recognised_total),
        (sorted((q.user_id, q.last) for q in quiet.gave_nothing), quiet.gave_nothing_total),
    ]
    assert got == _quiet_reference(database, now, members)


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    principle=st.sampled_from(["plain-words", "no-surprises"]),
)
def test_a_principles_history_is_its_raw_weeks(
    database: Database, history: dict[str, int], zone: str, period: str, principle: str
) -> None:
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    weeks = numbers.weeks_of(window, TODAY)
    with database.reading() as session:
        detail = numbers.principle_detail(
            session, TEAM, window, Filters(), principle, viewer_id=PEOPLE[0], today=TODAY
        )
        raw = numbers._weekly(
            session,
            [*counted(TEAM, (None, None)), Kudos.principle_id == history[principle]],
            weeks,
            window.zone,
        ).get(None, numbers._empty_weeks(weeks))
    assert detail.history == raw


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    grouped=st.booleans(),
    seed_groups=st.integers(min_value=0, max_value=10_000),
)
def test_the_network_counts_kudos_between_groups_as_the_raw_pairs(
    database: Database,
    history: dict[str, int],
    zone: str,
    period: str,
    grouped: bool,
    seed_groups: int,
) -> None:
    """Groups overlap (someone in two counts in both) and leave people out."""
    rng = random.Random(seed_groups)
    groups = tuple(
        numbers.Group(f"S{n:08d}", f"Group {n}", frozenset(rng.sample(PEOPLE, rng.randrange(6))))
        for n in range(4)
    )
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    filters = Filters(group_id="S00000000", members=groups[0].members) if grouped else Filters()
    with database.reading() as session:
        found = numbers.network(session, TEAM, window, filters, groups)
        catalog = numbers.principles(session, TEAM)
        conditions = numbers._where(session, TEAM, window.bounds, filters, catalog)
        pairs = numbers._pairs(session, conditions)
        # The network's pairs, found among the counts it read, are health's, found in SQL
        # with each giver's total counted here from the same raw kudos.
        gave = (
            select(Kudos.giver_id.label("user_id"), func.count().label("n"))
            .where(*conditions)
            .group_by(Kudos.giver_id)
            .subquery()
        )
        assert list(found.pairs) == reciprocal_pairs(session, conditions, gave)
    expected = [[0] * len(groups) for _ in groups]
    for giver, receiver, n in pairs:
        for i, first in enumerate(groups):
            for j, second in enumerate(groups):
                if giver in first.members and receiver in second.members:
                    expected[i][j] += n
    assert [list(row) for row in found.kudos] == expected


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    principle=st.sampled_from([None, "plain-words", "no-surprises"]),
    top=st.integers(min_value=1, max_value=6),
)
def test_the_boards_rank_as_slacks_leaderboard(
    database: Database,
    history: dict[str, int],
    zone: str,
    period: str,
    principle: str | None,
    top: int,
) -> None:
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    with database.reading() as session:
        boards = numbers.leaderboards(
            session, TEAM, window, Filters(principle_key=principle), top=top
        )
        info = next(
            (r.info for r in numbers.principles(session, TEAM).values() if r.info.key == principle),
            None,
        )
        for role, board in ((Role.RECEIVERS, boards.receivers), (Role.GIVERS, boards.givers)):
            slack = leaderboard(
                session=session,
                team_id=TEAM,
                period=Period(window.kind or PeriodKind.MONTH, window.start, window.end),
                bounds=window.bounds,
                role=role,
                principle=info,
                top=top,
                split_top=0,
            )
            expected = [(s.rank, s.user_id, s.count) for s in slack.entries]
            assert [(r.rank, r.user_id, r.kudos) for r in board] == expected
            # Read a row at a time: the pages join up.
            pid = info.id if info else None
            counts = summaries.person_counts(TEAM, role, window.bounds, pid)
            paged = numbers.ByCount(session, counts, page=1)
            assert [(r.rank, r.user_id, r.kudos) for r in numbers._counted_board(paged, top)] == (
                expected
            )


@SETTINGS
@given(zone=st.sampled_from(ZONES), period=periods)
def test_the_principles_rows_are_the_raw_kudos_rows(
    database: Database, history: dict[str, int], zone: str, period: str
) -> None:
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    weeks = numbers.weeks_of(window, TODAY, numbers.WEEKS, fixed=True)
    with database.reading() as session:
        rows = numbers.principle_rows(session, TEAM, window, Filters(), today=TODAY)
        catalog = numbers.principles(session, TEAM)
        stats, weekly = numbers._raw_principle_stats(
            session, TEAM, window, Filters(), catalog, weeks
        )
    for row in rows:
        pid = row.principle.info.id
        assert (row.kudos, row.givers, row.receivers, row.top_receivers) == stats.get(
            pid, (0, 0, 0, 0)
        )
        assert row.weekly == weekly.get(pid, numbers._empty_weeks(weeks))


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    principle=st.sampled_from([None, "plain-words", "no-surprises"]),
    role=st.sampled_from(list(Role)),
)
def test_the_people_counted_from_a_bucket_and_its_edges_are_the_raw_people(
    database: Database,
    history: dict[str, int],
    zone: str,
    period: str,
    principle: str | None,
    role: Role,
) -> None:
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    pid = history[principle] if principle else None
    who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
    conditions = counted(TEAM, window.bounds)
    if pid is not None:
        conditions.append(Kudos.principle_id == pid)
    with database.reading() as session:
        counted_people = summaries.people_count(
            TEAM, role, window.bounds, pid, dialect=database.dialect
        )
        found = session.scalar(select(counted_people))
        raw = session.scalar(select(func.count(func.distinct(who))).where(*conditions))
        overview = numbers.overview(
            session, TEAM, window, Filters(principle_key=principle), today=TODAY
        )
        totals = numbers._totals(
            session,
            [*conditions],
        )
    assert found == raw
    assert overview.totals == totals


def _raw_kudos(database: Database) -> list[Kudos]:
    with database.reading() as session:
        rows = session.scalars(select(Kudos).where(Kudos.team_id == TEAM)).all()
        session.expunge_all()
    return list(rows)


def _kept(
    rows: list[Kudos], bounds: tuple[dt.datetime | None, dt.datetime | None], filters: Filters
) -> list[Kudos]:
    """The kudos a filtered page counts, picked in Python from every raw kudos."""
    start, end = bounds

    def at(row: Kudos) -> dt.datetime:
        return (
            row.created_at.replace(tzinfo=dt.UTC)
            if row.created_at.tzinfo is None
            else (row.created_at)
        )

    return [
        row
        for row in rows
        if row.withdrawn_at is None
        and (start is None or at(row) >= start)
        and (end is None or at(row) < end)
        and (filters.channel_id is None or row.channel_id == filters.channel_id)
        and (
            filters.members is None
            or row.giver_id in filters.members
            or row.receiver_id in filters.members
        )
    ]


def _raw_weeks(
    rows: list[Kudos], weeks: tuple[Period, ...], zone: ZoneInfo, filters: Filters
) -> tuple[numbers.Week, ...]:
    return tuple(
        numbers.Week(week.start, len(_kept(rows, week.bounds(zone), filters)))
        for week in weeks
        if week.start is not None
    )


filtered = st.one_of(
    st.sampled_from(["CGENERAL01", "CTEAM0002", "CNOKUDOS1"]).map(
        lambda channel: Filters(channel_id=channel)
    ),
    st.frozensets(st.sampled_from([*PEOPLE, "UNOBODY0X"]), max_size=6).map(
        lambda members: Filters(group_id="S00000001", members=members)
    ),
)


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    filters=filtered,
    principle=st.sampled_from([None, "plain-words"]),
    top=st.integers(min_value=1, max_value=4),
)
def test_the_pages_filtered_by_a_channel_or_a_group_are_the_raw_kudos_answers(
    database: Database,
    history: dict[str, int],
    zone: str,
    period: str,
    filters: Filters,
    principle: str | None,
    top: int,
) -> None:
    """The overview, the principles' rows and the boards narrowed to a channel or a user
    group (an empty one, one with someone who has no kudos) from the raw kudos, counted here
    in Python: totals against the previous period, the weekly trends, each principle's
    givers, receivers and top 5, the three boards' ranks."""
    where = ZoneInfo(zone)
    window = parse_window(period, None, None, today=TODAY, zone=where)
    filters = Filters(filters.group_id, filters.channel_id, principle, filters.members)
    _assert_the_raw_answers(database, history, window, filters, principle, top)


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    first=st.integers(min_value=-20, max_value=90),
    days=st.integers(min_value=1, max_value=80),
    members=st.frozensets(st.sampled_from([*PEOPLE, "UNOBODY0X"]), max_size=6),
    channel=st.sampled_from([None, "CGENERAL01", "CTEAM0002"]),
    principle=st.sampled_from([None, "plain-words"]),
)
def test_a_groups_pages_over_any_range_are_the_raw_kudos_answers(
    database: Database,
    history: dict[str, int],
    zone: str,
    first: int,
    days: int,
    members: frozenset[str],
    channel: str | None,
    principle: str | None,
) -> None:
    """A user group's overview and principles' rows, each read in one pass over the kudos of
    the window, the previous period and the weeks (PostgreSQL): for custom ranges that start
    before the kudos or end after today, whose weeks reach outside both periods, narrowed
    further by a channel and a principle."""
    start = START.date() + dt.timedelta(days=first)
    last = start + dt.timedelta(days=days - 1)
    window = parse_window(
        "custom", start.isoformat(), last.isoformat(), today=TODAY, zone=ZoneInfo(zone)
    )
    filters = Filters("S00000001", channel, principle, members)
    _assert_the_raw_answers(database, history, window, filters, principle, 3)


def test_a_groups_overview_and_principles_read_the_kudos_once(
    database: Database, history: dict[str, int]
) -> None:
    """On PostgreSQL a user group's overview and principles page each read the kudos in one
    statement (the window, the previous period and the weeks tagged in one pass)."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("one pass by GROUPING SETS is PostgreSQL's")
    window = parse_window("month", None, None, today=TODAY, zone=ZoneInfo("America/New_York"))
    group = Filters(group_id="S00000001", members=frozenset(PEOPLE[:4]))
    read: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if re.search(r"\b(FROM|JOIN)\s+kudos\b(?!_)", statement):
            read.append(statement)

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        for page in (numbers.overview, numbers.principle_rows):
            read.clear()
            with database.reading() as session:
                page(session, TEAM, window, group, today=TODAY)
            assert len(read) == 1, read
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)


def _assert_the_raw_answers(
    database: Database,
    history: dict[str, int],
    window: Window,
    filters: Filters,
    principle: str | None,
    top: int,
) -> None:
    where = window.zone
    pid = history[principle] if principle else None
    rows = [r for r in _raw_kudos(database) if pid is None or r.principle_id == pid]
    with database.reading() as session:
        overview = numbers.overview(session, TEAM, window, filters, today=TODAY)
        principle_rows = numbers.principle_rows(session, TEAM, window, filters, today=TODAY)
        boards = numbers.leaderboards(session, TEAM, window, filters, top=top)
        active = session.scalars(
            select(PersonRow.user_id).where(summaries.active_people(TEAM))
        ).all()

    def totals(kept: list[Kudos]) -> numbers.Totals:
        return numbers.Totals(
            len(kept), len({r.giver_id for r in kept}), len({r.receiver_id for r in kept})
        )

    kept = _kept(rows, window.bounds, filters)
    assert overview.totals == totals(kept)
    before = window.previous()
    assert overview.previous == (totals(_kept(rows, before.bounds, filters)) if before else None)
    assert overview.weekly == _raw_weeks(rows, numbers.weeks_of(window, TODAY), where, filters)
    assert {c.principle.info.id: c.count for c in overview.by_principle if c.count} == dict(
        Counter(r.principle_id for r in kept)
    )
    members = set(active) if filters.members is None else set(active) & filters.members
    assert overview.active_people == len(members)

    twelve = numbers.weeks_of(window, TODAY, numbers.WEEKS, fixed=True)
    for row in principle_rows:
        mine = [r for r in kept if r.principle_id == row.principle.info.id]
        received = Counter(r.receiver_id for r in mine)
        assert (row.kudos, row.givers, row.receivers, row.top_receivers) == (
            len(mine),
            len({r.giver_id for r in mine}),
            len(received),
            sum(n for _r, n in received.most_common(TOP_RECEIVERS)),
        )
        assert row.weekly == _raw_weeks(
            [r for r in rows if r.principle_id == row.principle.info.id], twelve, where, filters
        )

    pairs = Counter((r.giver_id, r.receiver_id) for r in kept)
    got = Counter(r.receiver_id for r in kept)
    gave = Counter(r.giver_id for r in kept)
    weights: dict[str, float] = {}
    for (_giver, receiver), n in pairs.items():
        weights[receiver] = weights.get(receiver, 0.0) + math.sqrt(n)

    def board(found: tuple[numbers.Ranked, ...]) -> list[tuple[int, str, float, int]]:
        return [(r.rank, r.user_id, round(r.score, 9), r.kudos) for r in found]

    assert board(boards.receivers) == board(
        numbers.ranked({u: float(n) for u, n in got.items()}, got, top)
    )
    assert board(boards.givers) == board(
        numbers.ranked({u: float(n) for u, n in gave.items()}, gave, top)
    )
    assert board(boards.weighted) == board(numbers.ranked(weights, got, top))


def test_a_groups_pages_are_planned_for_its_members(
    database: Database, history: dict[str, int]
) -> None:
    """On PostgreSQL a group's members are one array parameter; a generic plan (PostgreSQL's
    choice for a statement prepared and run many times) couldn't hash it, so a page
    filtered by a group has every statement planned for its values."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("plans for parameters' values are PostgreSQL's")
    window = parse_window("month", None, None, today=TODAY, zone=ZoneInfo("UTC"))
    group = Filters(group_id="S00000001", members=frozenset(PEOPLE[:3]))
    with database.reading() as session:
        numbers.overview(session, TEAM, window, group, today=TODAY)
        assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    with database.reading() as session:
        numbers.overview(session, TEAM, window, Filters(), today=TODAY)
        assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
