"""The read model (bot/reports/summaries.py) against the raw kudos: kudos given and withdrawn
through the kudos service at instants chosen around UTC and local midnights, then, for random
timezones, periods, principles and roles, every count the reports read from the summaries
equals the raw-kudos query for the same period. Also: parallel kudos lose no increment, the
migration fills the summaries for kudos already recorded, and a rebuild resumes."""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, event, func, insert, select, text

from bot.audience import Audience
from bot.blocks.home import HOME_PAIRS
from bot.cli import main
from bot.db.engine import Database, quick_reads
from bot.db.migrate import downgrade, upgrade
from bot.db.models import Kudos, KudosPair, KudosTally, Person, TallyRebuild
from bot.kudos.service import Giver, Giving, Place, Recipient, Source, give, withdraw_group
from bot.reports.health import (
    PAIRS_SHOWN,
    RECIPROCITY_MIN,
    Pair,
    PrincipleTrend,
    Trend,
    pairs_among,
    period_pairs,
    promise_health,
    promise_trend,
    reciprocal_pairs,
    trend_weeks,
)
from bot.reports.leaderboard import leaderboard, principle_report
from bot.reports.periods import Period, PeriodKind, period_of
from bot.reports.rebuild import rebuild_team
from bot.reports.summaries import (
    ALL_TIME,
    NOT_RECOGNISED_DAYS,
    Grain,
    People,
    Range,
    Role,
    counted,
    counts_by_person,
    participation,
    people_by_principle,
    person_counts,
    principle_counts,
    recount_histogram,
)
from tests.support.databases import FilledSnapshots
from tests.support.reports import principle_ids, seed, sync

# One worker: the SQLite `history` is then filled once in the run and copied for the other
# dozen tests (tests/conftest.py starts the module early, so it doesn't run last alone).
pytestmark = pytest.mark.xdist_group("summaries")

TEAM = "T0SUMMARY"
OTHER_TEAM = "T0OTHERWS"
PEOPLE = [f"US{n:03d}X" for n in range(9)]
# Zones whose midnights are not on the UTC hour (+5:30, +5:45, -3:30, +12:45) and with DST.
ZONES = [
    "UTC",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Chatham",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
]
FIRST_DAY = dt.date(2025, 11, 20)
DAYS = 80  # across a month end, a year end and a quarter end


def instants(rng: random.Random, count: int) -> list[dt.datetime]:
    """Moments near where periods begin: UTC midnights and local midnights of ZONES on month,
    quarter and year starts, a few seconds or hours either side; and some anywhere."""
    found = []
    for _ in range(count):
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        if rng.random() < 0.2:
            found.append(
                dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
                + dt.timedelta(seconds=rng.randrange(86_400))
            )
            continue
        if rng.random() < 0.5:
            day = rng.choice([dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)])
        zone = ZoneInfo(rng.choice(ZONES))
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        offset = rng.choice([0, 1, -1, 59, -59, 3600, -3600, rng.randrange(-86_400, 86_400)])
        found.append(midnight + dt.timedelta(seconds=offset))
    return found


def give_at(
    database: Database, team: str, giver: str, receivers: list[str], pid: int, at: dt.datetime
) -> str:
    with database.transaction() as session:
        given_kudos = give(
            session=session,
            giving=Giving(
                recipients=tuple(Recipient(r) for r in receivers),
                principle_id=pid,
                message=f"thanks {at.isoformat()} {receivers}",
                source=Source.COMMAND,
            ),
            giver=Giver(giver),
            place=Place(team_id=team, channel_id="CSUMMARY1", audience=Audience.PUBLIC),
            limit=10_000,
            now=at,
        )
    return given_kudos.group_id


def withdraw_at(database: Database, team: str, giver: str, group_id: str, at: dt.datetime) -> None:
    with database.transaction() as session:
        withdraw_group(
            session=session,
            team_id=team,
            giver_id=giver,
            giver_timezone=None,
            group_id=group_id,
            now=at,
        )


@pytest.fixture
def history(database: Database, filled_snapshots: FilledSnapshots) -> dict[str, int]:
    """~120 kudos (some to several people) given through the service, a fifth withdrawn —
    some in the same second — and a second workspace's kudos at the same instants. Filled
    once per worker on SQLite and copied after (tests/support/databases.py)."""
    return filled_snapshots.filled("summaries-history", database, fill_history)


def fill_history(database: Database) -> dict[str, int]:
    rng = random.Random(21)
    sync(database, TEAM)
    sync(database, OTHER_TEAM)
    pids = principle_ids(database, TEAM)
    other = list(principle_ids(database, OTHER_TEAM).values())
    with database.transaction() as session:
        for n, user in enumerate(PEOPLE):
            session.add(Person(team_id=TEAM, user_id=user, name=user, deleted=n == 8))
    for at in instants(rng, 120):
        giver = rng.choice(PEOPLE)
        receivers = rng.sample([p for p in PEOPLE if p != giver], rng.choice([1, 1, 1, 2, 3]))
        group = give_at(database, TEAM, giver, receivers, rng.choice(list(pids.values())), at)
        if rng.random() < 0.2:
            withdraw_at(
                database, TEAM, giver, group, at + dt.timedelta(seconds=rng.choice([0, 30]))
            )
        give_at(database, OTHER_TEAM, giver, receivers[:1], rng.choice(other), at)
    return pids


def raw_by_person(database: Database, role: Role, bounds: Range, pid: int | None) -> dict[str, int]:
    """The reference: the raw kudos counted per person in one GROUP BY."""
    who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
    conditions = counted(TEAM, bounds)
    if pid is not None:
        conditions.append(Kudos.principle_id == pid)
    with database.reading() as session:
        rows = session.execute(select(who, func.count()).where(*conditions).group_by(who))
        return {user: int(n) for user, n in rows}


def raw_by_principle(database: Database, bounds: Range) -> dict[int, int]:
    with database.reading() as session:
        rows = session.execute(
            select(Kudos.principle_id, func.count())
            .where(*counted(TEAM, bounds))
            .group_by(Kudos.principle_id)
        )
        return {pid: int(n) for pid, n in rows}


def examples(count: int) -> settings:
    """Hypothesis settings for a property over a database fixture: `count` examples, no
    deadline (the databases are shared with other tests' load)."""
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


periods = st.builds(
    lambda kind, offset: period_of(kind, FIRST_DAY + dt.timedelta(days=offset)),
    st.sampled_from(list(PeriodKind)),
    st.integers(min_value=-40, max_value=DAYS + 40),
)


@examples(60)
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    role=st.sampled_from(list(Role)),
    principle=st.sampled_from([None, "plain-words", "no-surprises", "old-ways"]),
)
def test_every_count_from_the_summaries_equals_the_raw_kudos_for_any_period_and_zone(
    database: Database,
    history: dict[str, int],
    zone: str,
    period: object,
    role: Role,
    principle: str | None,
) -> None:
    assert hasattr(period, "bounds")
    bounds = period.bounds(ZoneInfo(zone))
    pid = history[principle] if principle else None
    with database.reading() as session:
        persons = counts_by_person(session, TEAM, role, bounds, pid)
        [per_principle] = principle_counts(session, TEAM, [bounds])
    assert persons == raw_by_person(database, role, bounds, pid)
    assert per_principle == raw_by_principle(database, bounds)
    with database.reading() as session:
        people, everyone = people_by_principle(session, TEAM, bounds, 2)
        pairs = reciprocal_pairs(
            session, counted(TEAM, bounds), person_counts(TEAM, Role.GIVERS, bounds)
        )
        tallied = period_pairs(session, TEAM, bounds, person_counts(TEAM, Role.GIVERS, bounds))
        # The givers' totals of the candidates alone (what health asks for).
        candidates_only = period_pairs(session, TEAM, bounds)
    assert (people, everyone) == raw_people(database, bounds, 2)
    assert pairs == raw_pairs(database, bounds)
    assert tallied == pairs
    assert candidates_only == pairs
    # The same pairs from (giver, receiver) counts already read (the dashboard's network).
    with database.reading() as session:
        sent = session.execute(
            select(Kudos.giver_id, Kudos.receiver_id, func.count())
            .where(*counted(TEAM, bounds))
            .group_by(Kudos.giver_id, Kudos.receiver_id)
        ).all()
    assert pairs_among([(g, r, int(n)) for g, r, n in sent]) == pairs


def raw_pairs(database: Database, bounds: Range) -> list[Pair]:
    """The reference for promise health's pairs (each giving the other more than half of
    their kudos, at least RECIPROCITY_MIN between them), counted here from the raw kudos."""
    with database.reading() as session:
        rows = session.execute(
            select(Kudos.giver_id, Kudos.receiver_id).where(*counted(TEAM, bounds))
        ).all()
    sent = Counter((g, r) for g, r in rows)
    gave = Counter(g for g, _r in rows)
    found = [
        Pair(a, b, n, sent[b, a], gave[a], gave[b])
        for (a, b), n in sent.items()
        if a < b
        and n * 2 > gave[a]
        and sent[b, a] * 2 > gave[b]
        and n + sent[b, a] >= RECIPROCITY_MIN
    ]
    return sorted(found, key=lambda p: (-p.exchanged, p.first, p.second))[:PAIRS_SHOWN]


def raw_people(database: Database, bounds: Range, top: int) -> tuple[dict[int, People], People]:
    """The reference for `people_by_principle`: the raw kudos, counted here."""
    with database.reading() as session:
        rows = session.execute(
            select(Kudos.principle_id, Kudos.giver_id, Kudos.receiver_id).where(
                *counted(TEAM, bounds)
            )
        ).all()

    def people(triples: list[tuple[int, str, str]]) -> People:
        received = Counter(r for _p, _g, r in triples)
        ranked = sorted(received.items(), key=lambda item: (-item[1], item[0]))
        return People(
            len({g for _p, g, _r in triples}), len(received), sum(n for _r, n in ranked[:top])
        )

    principles = {p for p, _g, _r in rows}
    by_principle = {p: people([row for row in rows if row[0] == p]) for p in principles}
    return by_principle, people([tuple(row) for row in rows])


instants_in_history = st.builds(
    lambda day, second: (
        dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time(0), tzinfo=dt.UTC)
        + dt.timedelta(seconds=second)
    ),
    st.integers(min_value=-400, max_value=DAYS + 400),
    st.integers(min_value=0, max_value=86_399),
)


@examples(40)
@given(
    first=st.one_of(st.none(), instants_in_history),
    last=st.one_of(st.none(), instants_in_history),
    role=st.sampled_from(list(Role)),
)
def test_any_range_of_instants_counts_as_the_raw_kudos(
    database: Database,
    history: dict[str, int],
    first: dt.datetime | None,
    last: dt.datetime | None,
    role: Role,
) -> None:
    """Ranges that start and end anywhere (a custom range, the 60 days to now), across year
    ends: the buckets that overhang them, less the overhang, count exactly."""
    bounds = (first, last)
    with database.reading() as session:
        persons = counts_by_person(session, TEAM, role, bounds)
        [per_principle] = principle_counts(session, TEAM, [bounds])
    assert persons == raw_by_person(database, role, bounds, None)
    assert per_principle == raw_by_principle(database, bounds)
    with database.reading() as session:
        gave = person_counts(TEAM, Role.GIVERS, bounds)
        assert period_pairs(session, TEAM, bounds, gave) == raw_pairs(database, bounds)


# -- the pair tallies (migration 0017): promise health's reciprocal pairs -------------------

CLOSE = PEOPLE[:6]


@pytest.fixture
def close_pairs(database: Database) -> None:
    """Kudos among six people, most of them between three close pairs (one of whom also
    thanks others, so some quarters are a majority and some not), around the local midnights
    of quarter ends, some withdrawn (in the same second too), a second workspace beside."""
    rng = random.Random(17)
    sync(database, TEAM)
    sync(database, OTHER_TEAM)
    pid = next(iter(principle_ids(database, TEAM).values()))
    other = next(iter(principle_ids(database, OTHER_TEAM).values()))
    friends = {
        a: b for x, y in zip(CLOSE[::2], CLOSE[1::2], strict=True) for a, b in ((x, y), (y, x))
    }
    for at in instants(rng, 150):
        giver = rng.choice(CLOSE)
        receiver = (
            friends[giver] if rng.random() < 0.7 else rng.choice([p for p in PEOPLE if p != giver])
        )
        group = give_at(database, TEAM, giver, [receiver], pid, at)
        if rng.random() < 0.15:
            withdraw_at(
                database, TEAM, giver, group, at + dt.timedelta(seconds=rng.choice([0, 30]))
            )
        give_at(database, OTHER_TEAM, receiver, [giver], other, at)


def raw_pair_tallies(database: Database) -> Counter[tuple[object, ...]]:
    """The reference for `kudos_pairs`: standing kudos per team, UTC quarter (and all time),
    giver and receiver, counted here."""
    with database.reading() as session:
        rows = session.execute(
            select(Kudos.team_id, Kudos.created_at, Kudos.giver_id, Kudos.receiver_id).where(
                Kudos.withdrawn_at.is_(None)
            )
        ).all()
    found: Counter[tuple[object, ...]] = Counter()
    for team, at, giver, receiver in rows:
        day = at.astimezone(dt.UTC).date()
        found[team, dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1), giver, receiver] += 1
        found[team, ALL_TIME, giver, receiver] += 1  # all time's rows (migration 0020)
    return found


def nonzero_counts(database: Database, *key: Any, count: Any) -> Counter[tuple[object, ...]]:
    """A tally table's rows that are not zero, as a Counter from their key to their count (a
    negative count stays visible)."""
    with database.reading() as session:
        rows = session.execute(select(*key, count).where(count != 0))
        return Counter({tuple(row[:-1]): row[-1] for row in rows})


def pair_tallies(database: Database) -> Counter[tuple[object, ...]]:
    return nonzero_counts(
        database,
        KudosPair.team_id,
        KudosPair.bucket,
        KudosPair.giver_id,
        KudosPair.receiver_id,
        count=KudosPair.kudos,
    )


@examples(60)
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    first=st.one_of(st.none(), instants_in_history),
    last=st.one_of(st.none(), instants_in_history),
)
def test_pairs_from_the_pair_tallies_are_the_raw_kudos_pairs(
    database: Database,
    close_pairs: None,
    zone: str,
    period: object,
    first: dt.datetime | None,
    last: dt.datetime | None,
) -> None:
    """For local periods and any range (inside one quarter, across one's end, open), the
    pairs health reads from the tallies are those of the raw kudos, in the same order."""
    assert hasattr(period, "bounds")
    for bounds in (period.bounds(ZoneInfo(zone)), (first, last)):
        with database.reading() as session:
            gave = person_counts(TEAM, Role.GIVERS, bounds)
            assert period_pairs(session, TEAM, bounds, gave) == raw_pairs(database, bounds)
            assert period_pairs(session, TEAM, bounds) == raw_pairs(database, bounds)


def test_close_pairs_are_found_in_a_local_quarter_from_the_tallies(
    database: Database, close_pairs: None
) -> None:
    """The fixture has pairs for the property test to find: in each local quarter it
    covers, in New York and in Kolkata."""
    for zone in ("America/New_York", "Asia/Kolkata"):
        for day in (dt.date(2025, 12, 1), dt.date(2026, 1, 15)):
            bounds = period_of(PeriodKind.QUARTER, day).bounds(ZoneInfo(zone))
            with database.reading() as session:
                gave = person_counts(TEAM, Role.GIVERS, bounds)
                found = period_pairs(session, TEAM, bounds, gave)
            assert found == raw_pairs(database, bounds)
            assert found


def test_a_pair_whose_kudos_back_fall_in_the_hours_after_the_quarter_is_found(
    database: Database,
) -> None:
    """Health reads the bucket's pairs that gave kudos both ways; a pair that was one-way in
    the UTC quarter (two kudos, none back, a withdrawn one back too) but gave back in the
    local period's hours after it, or that had one kudos back in the quarter and the rest
    before its end, or three and one all inside it, is still found, as the raw kudos find
    it (New York's quarter and its December end at 05:00 UTC on the 1st)."""
    sync(database, TEAM)
    pid = next(iter(principle_ids(database, TEAM).values()))
    a, b, c, d, e, f = PEOPLE[:6]
    utc = dt.UTC
    # a → b twice in the quarter, b → a only in the New York hours after it.
    give_at(database, TEAM, a, [b], pid, dt.datetime(2025, 12, 3, 12, tzinfo=utc))
    give_at(database, TEAM, a, [b], pid, dt.datetime(2025, 12, 9, 12, tzinfo=utc))
    withdrawn = give_at(database, TEAM, b, [a], pid, dt.datetime(2025, 12, 10, 12, tzinfo=utc))
    withdraw_at(database, TEAM, b, withdrawn, dt.datetime(2025, 12, 10, 13, tzinfo=utc))
    give_at(database, TEAM, b, [a], pid, dt.datetime(2026, 1, 1, 2, tzinfo=utc))
    give_at(database, TEAM, b, [a], pid, dt.datetime(2026, 1, 1, 3, tzinfo=utc))
    # c ↔ d: two and one in the quarter, one more in those hours.
    for at in (dt.datetime(2025, 12, 2, 9, tzinfo=utc), dt.datetime(2025, 12, 20, 9, tzinfo=utc)):
        give_at(database, TEAM, c, [d], pid, at)
    give_at(database, TEAM, d, [c], pid, dt.datetime(2025, 12, 21, 9, tzinfo=utc))
    give_at(database, TEAM, d, [c], pid, dt.datetime(2026, 1, 1, 4, tzinfo=utc))
    # e ↔ f: three and one, all inside the quarter.
    for day in (5, 6, 7):
        give_at(database, TEAM, e, [f], pid, dt.datetime(2025, 12, day, 9, tzinfo=utc))
    give_at(database, TEAM, f, [e], pid, dt.datetime(2025, 12, 8, 9, tzinfo=utc))
    zone = ZoneInfo("America/New_York")
    for kind in (PeriodKind.QUARTER, PeriodKind.MONTH):
        bounds = period_of(kind, dt.date(2025, 12, 15)).bounds(zone)
        with database.reading() as session:
            found = period_pairs(session, TEAM, bounds)
        assert found == raw_pairs(database, bounds)
        assert {(p.first, p.second) for p in found} == {(a, b), (c, d), (e, f)}


def test_the_pair_tallies_follow_every_change_to_the_kudos(
    database: Database, close_pairs: None
) -> None:
    """Kept by triggers: kudos given and withdrawn through the service (the fixture), then
    changed and deleted behind its back, as a bulk load or an older release would."""
    assert pair_tallies(database) == raw_pair_tallies(database)
    with database.transaction() as session:
        ids = session.scalars(select(Kudos.id).order_by(Kudos.id)).all()
        moved = dt.datetime(2026, 3, 31, 23, 59, tzinfo=dt.UTC)
        session.execute(
            Kudos.__table__.update()
            .where(Kudos.id.in_(ids[::7]))
            .values(created_at=moved, receiver_id=PEOPLE[8])
        )
        session.execute(
            Kudos.__table__.update()
            .where(Kudos.id.in_(ids[1::5]))
            .values(withdrawn_at=func.coalesce(Kudos.withdrawn_at, moved))
        )
        session.execute(
            Kudos.__table__.update().where(Kudos.id.in_(ids[2::9])).values(withdrawn_at=None)
        )
        session.execute(Kudos.__table__.update().where(Kudos.id.in_(ids[3::4])).values(message="x"))
        session.execute(Kudos.__table__.delete().where(Kudos.id.in_(ids[4::6])))
    assert pair_tallies(database) == raw_pair_tallies(database)


def test_the_pair_migration_counts_the_kudos_recorded_before_it(fresh_url: str) -> None:
    database = Database(fresh_url)
    try:
        upgrade(database, "0016")
        sync(database, TEAM)
        pids = list(principle_ids(database, TEAM).values())
        rng = random.Random(5)
        rows = []
        for at in instants(rng, 80):
            giver, receiver = rng.sample(PEOPLE[:4], 2)
            rows.append(_row(giver, receiver, rng.choice(pids), at, rng.random() < 0.2))
        with database.transaction() as session:
            session.execute(insert(Kudos), rows)
        expected = raw_pair_tallies(database)
        assert max(expected.values()) >= 2
        upgrade(database)
        assert pair_tallies(database) == expected
        downgrade(database, "0016")
        upgrade(database)
        assert pair_tallies(database) == expected
    finally:
        database.dispose()


def test_a_leaderboard_ranks_the_raw_counts_for_a_kolkata_month(
    database: Database, history: dict[str, int]
) -> None:
    period = period_of(PeriodKind.MONTH, dt.date(2025, 12, 5))
    bounds = period.bounds(ZoneInfo("Asia/Kolkata"))
    with database.reading() as session:
        board = leaderboard(session=session, team_id=TEAM, period=period, bounds=bounds, top=100)
    raw = raw_by_person(database, Role.RECEIVERS, bounds, None)
    assert raw, "the history has kudos in December"
    assert {s.user_id: s.count for s in board.entries} == raw
    assert board.total == sum(raw.values())
    for standing in board.entries:
        assert standing.rank == 1 + sum(1 for n in raw.values() if n > standing.count)


def test_participation_counts_the_active_people_who_gave_and_received(
    database: Database, history: dict[str, int]
) -> None:
    zone = ZoneInfo("America/St_Johns")
    period = period_of(PeriodKind.MONTH, dt.date(2026, 1, 10))
    previous = period.previous()
    assert previous is not None
    now = dt.datetime(2026, 2, 3, 12, tzinfo=dt.UTC)
    with database.reading() as session:
        found = participation(session, TEAM, period.bounds(zone), previous.bounds(zone), now)
    active = set(PEOPLE[:8])  # the ninth is deactivated
    gave = set(raw_by_person(database, Role.GIVERS, period.bounds(zone), None)) & active
    received = set(raw_by_person(database, Role.RECEIVERS, period.bounds(zone), None)) & active
    recent = set(raw_by_person(database, Role.RECEIVERS, (now - dt.timedelta(days=60), None), None))
    assert found.active == 8
    assert (found.gave, found.received) == (len(gave), len(received))
    before = set(raw_by_person(database, Role.GIVERS, previous.bounds(zone), None)) & active
    assert found.gave_before == len(before)
    assert found.not_recognised == len(active - recent)


@examples(25)
@given(zone=st.sampled_from(ZONES), period=periods, now=instants_in_history)
def test_participation_equals_the_raw_kudos_for_any_period_zone_and_day(
    database: Database, history: dict[str, int], zone: str, period: Period, now: dt.datetime
) -> None:
    """All five numbers at once, from one statement, against each counted from the raw
    kudos: the period, the one before it, and the 60 days to `now`."""
    where = ZoneInfo(zone)
    previous = period.previous()
    bounds = period.bounds(where)
    before = previous.bounds(where) if previous is not None else None
    with database.reading() as session:
        found = participation(session, TEAM, bounds, before, now)
    active = set(PEOPLE[:8])  # the ninth is deactivated

    def among(role: Role, span: Range) -> int:
        return len(set(raw_by_person(database, role, span, None)) & active)

    recent = (now - dt.timedelta(days=60), None)
    assert found.active == len(active)
    assert (found.gave, found.received) == (
        among(Role.GIVERS, bounds),
        among(Role.RECEIVERS, bounds),
    )
    if before is None:
        assert (found.gave_before, found.received_before) == (None, None)
    else:
        assert (found.gave_before, found.received_before) == (
            among(Role.GIVERS, before),
            among(Role.RECEIVERS, before),
        )
    assert found.not_recognised == len(active) - among(Role.RECEIVERS, recent)


def test_participation_leaves_out_who_had_a_months_kudos_only_in_the_hours_it_loses(
    database: Database,
) -> None:
    """New York's January is the UTC month less its first 5 hours, plus February's first 5:
    one whose January (UTC) kudos all fall in those first hours is in December's lists,
    not January's; one with kudos on both sides is in both; February's first hours count."""
    sync(database, TEAM)
    pid = next(iter(principle_ids(database, TEAM).values()))
    with database.transaction() as session:
        for user in PEOPLE[:3]:
            session.add(Person(team_id=TEAM, user_id=user, name=user))
    a, b, c = PEOPLE[:3]
    at = dt.datetime
    give_at(database, TEAM, a, [b], pid, at(2026, 1, 1, 2, tzinfo=dt.UTC))
    give_at(database, TEAM, b, [a], pid, at(2026, 1, 1, 1, tzinfo=dt.UTC))
    give_at(database, TEAM, b, [a], pid, at(2026, 1, 15, tzinfo=dt.UTC))
    give_at(database, TEAM, a, [c], pid, at(2026, 2, 1, 3, tzinfo=dt.UTC))
    zone = ZoneInfo("America/New_York")
    january = period_of(PeriodKind.MONTH, dt.date(2026, 1, 10))
    december = january.previous()
    assert december is not None
    with database.reading() as session:
        found = participation(
            session,
            TEAM,
            january.bounds(zone),
            december.bounds(zone),
            at(2026, 2, 3, tzinfo=dt.UTC),
        )
    # January: a and b gave, a and c received; December: a and b gave, b and a received.
    assert (found.gave, found.received) == (2, 2)
    assert (found.gave_before, found.received_before) == (2, 2)
    with database.reading() as session:
        found = participation(
            session, TEAM, december.bounds(zone), None, at(2026, 2, 3, tzinfo=dt.UTC)
        )
    assert (found.gave, found.received) == (2, 2)


@pytest.fixture
def mixed_directory(database: Database, history: dict[str, int]) -> set[str]:
    """`history`'s kudos with a directory that leaves some of their people out of the active:
    US006X a bot, US007X missing from the directory, US008X deactivated (as in `history`),
    and one active person with no kudos at all. Returns the active people."""
    with database.transaction() as session:
        bot = session.get(Person, (TEAM, PEOPLE[6]))
        assert bot is not None
        bot.is_bot = True
        missing = session.get(Person, (TEAM, PEOPLE[7]))
        session.delete(missing)
        session.add(Person(team_id=TEAM, user_id="US900X", name="quiet"))
        # The other workspace's directory names the missing one: no one counts across.
        session.add(Person(team_id=OTHER_TEAM, user_id=PEOPLE[7], name="elsewhere"))
    return {*PEOPLE[:6], "US900X"}


# `now` whose 60 days begin on or around a UTC or local month start (the month tallies'
# boundary), or anywhere.
sixty_days_on = st.builds(
    lambda since, offset: since + dt.timedelta(days=NOT_RECOGNISED_DAYS, seconds=offset),
    st.sampled_from(
        [
            dt.datetime(year, month, 1, tzinfo=dt.UTC)
            for year, month in ((2025, 12), (2026, 1), (2026, 2))
        ]
    ),
    st.sampled_from([0, 1, -1, 3600, -3600, -16_200, 12_600, 86_400 * 9]),
)


@examples(30)
@given(
    zone=st.sampled_from(ZONES),
    period=periods,
    now=st.one_of(sixty_days_on, instants_in_history),
)
def test_participation_leaves_out_bots_the_deactivated_and_who_is_not_in_the_directory(
    database: Database, mixed_directory: set[str], zone: str, period: Period, now: dt.datetime
) -> None:
    """Each list's people counted from the read model less the few who aren't active: equal
    to the raw kudos' people among the active, whoever of the inactive gave, received or had
    their kudos withdrawn, for any period, zone and 60 days."""
    where = ZoneInfo(zone)
    previous = period.previous()
    bounds = period.bounds(where)
    before = previous.bounds(where) if previous is not None else None
    with database.reading() as session:
        found = participation(session, TEAM, bounds, before, now)

    def among(role: Role, span: Range) -> int:
        return len(set(raw_by_person(database, role, span, None)) & mixed_directory)

    assert found.active == len(mixed_directory)
    assert (found.gave, found.received) == (
        among(Role.GIVERS, bounds),
        among(Role.RECEIVERS, bounds),
    )
    if before is not None:
        assert (found.gave_before, found.received_before) == (
            among(Role.GIVERS, before),
            among(Role.RECEIVERS, before),
        )
    recent = among(Role.RECEIVERS, (now - dt.timedelta(days=NOT_RECOGNISED_DAYS), None))
    assert found.not_recognised == len(mixed_directory) - recent


@examples(25)
@given(zone=st.sampled_from(ZONES), period=periods, offset=st.integers(min_value=0, max_value=40))
def test_reports_given_the_counts_already_read_equal_each_report_reading_its_own(
    database: Database, history: dict[str, int], zone: str, period: Period, offset: int
) -> None:
    """The managers' Home and the digest read kudos per principle once for the principle
    report and health (the period, the one before, the 12 weeks: some the same, some with
    the same edges): every number as each report reading its own; and the digest's trend
    (health without its people and pairs) as health's own rows."""
    where = ZoneInfo(zone)
    today = (period.start or FIRST_DAY) + dt.timedelta(days=offset)
    bounds = period.bounds(where)
    previous = period.previous()
    before = previous.bounds(where) if previous is not None else None
    periods = [bounds, *([before] if before else [])]
    periods += [week.bounds(where) for week in trend_weeks(period, today)]
    with database.reading() as session:
        counts = principle_counts(session, TEAM, periods)
        assert counts == [raw_by_principle(database, b) for b in periods]
        known = dict(zip(periods, counts, strict=True))
        assert principle_counts(session, TEAM, [*periods, bounds], known) == [*counts, counts[0]]
        shared = (
            principle_report(
                session=session,
                team_id=TEAM,
                period=period,
                bounds=bounds,
                previous_bounds=before,
                known=known,
            ),
            promise_health(
                session=session,
                team_id=TEAM,
                period=period,
                bounds=bounds,
                where=where,
                today=today,
                known=known,
            ),
        )
    with database.reading() as session:
        alone = (
            principle_report(
                session=session, team_id=TEAM, period=period, bounds=bounds, previous_bounds=before
            ),
            promise_health(
                session=session,
                team_id=TEAM,
                period=period,
                bounds=bounds,
                where=where,
                today=today,
            ),
        )
    assert shared == alone
    # Health without its people and pairs (the digest's): the same principles, in the same
    # order, with the same kudos and weeks, given the counts already read or not.
    health = alone[1]
    expected = Trend(
        health.period,
        health.weeks,
        tuple(PrincipleTrend(p.principle, p.kudos, p.weekly, p.retired) for p in health.principles),
        health.quiet,
        health.kudos,
    )
    with database.reading() as session:
        for given in (known, None):
            trend = promise_trend(
                session=session,
                team_id=TEAM,
                period=period,
                bounds=bounds,
                where=where,
                today=today,
                known=given,
            )
            assert trend == expected
            # The managers' Home reads the trend and its few pairs (not the people): the
            # pairs health shows first.
            assert period_pairs(session, TEAM, bounds, limit=HOME_PAIRS) == list(
                health.pairs[:HOME_PAIRS]
            )


def tallies(database: Database) -> Counter[tuple[object, ...]]:
    return nonzero_counts(
        database,
        KudosTally.team_id,
        KudosTally.role,
        KudosTally.grain,
        KudosTally.principle_id,
        KudosTally.bucket,
        KudosTally.user_id,
        count=KudosTally.kudos,
    )


class Interrupted(Exception):
    pass


# A rebuild's months one at a time, and a quarter's three at once (PostgreSQL; SQLite one
# at a time whatever is asked).
JOBS = pytest.mark.parametrize("jobs", [1, 3], ids=["one month at a time", "three at once"])


@JOBS
def test_an_interrupted_rebuild_resumes_and_ends_where_the_write_path_was(
    database: Database, history: dict[str, int], jobs: int
) -> None:
    kept = tallies(database)
    with database.transaction() as session:
        session.execute(
            text("UPDATE kudos_tallies SET kudos = kudos + 5 WHERE team_id = :team"),
            {"team": TEAM},
        )

    def stop_after_two(done: int, _total: int) -> None:
        if done == 2:
            raise Interrupted

    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with pytest.raises(Interrupted):
        rebuild_team(database, TEAM, now, stop_after_two, jobs)
    with database.reading() as session:
        assert session.get(TallyRebuild, TEAM) is not None
    seen: list[tuple[int, int]] = []
    resumed = rebuild_team(
        database, TEAM, now, lambda done, total: seen.append((done, total)), jobs
    )
    assert resumed.resumed
    # One month at a time it resumes at the third; with months written at once a month
    # that committed before the one ahead of it may be counted again.
    assert seen[0][0] == 3 if jobs == 1 else 2 <= seen[0][0] <= 3
    assert seen[-1][0] == seen[-1][1]
    assert tallies(database) == kept
    with database.reading() as session:
        assert session.get(TallyRebuild, TEAM) is None


@JOBS
def test_a_rebuild_from_nothing_counts_what_the_upkeep_counted(
    database: Database, history: dict[str, int], jobs: int
) -> None:
    """Every row the write path keeps (kudos, undo and withdrawal, two workspaces, across a
    year end) is what a rebuild from empty tallies writes: the set-based rebuild (GROUPING
    SETS on PostgreSQL) and the upkeep agree on both databases."""
    kept = tallies(database)
    with database.transaction() as session:
        session.execute(text("DELETE FROM kudos_tallies"))
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for team in (TEAM, OTHER_TEAM):
        rebuild_team(database, team, now, jobs=jobs)
    assert tallies(database) == kept


def test_kudos_given_at_once_by_many_people_all_count(database: Database) -> None:
    sync(database, TEAM)
    pid = principle_ids(database, TEAM)["plain-words"]
    at = dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
    givers = [f"UPAR{n:03d}X" for n in range(12)]
    start = threading.Barrier(len(givers))

    def one(giver: str) -> None:
        start.wait()
        give_at(database, TEAM, giver, ["URECEIVE1"], pid, at)

    with ThreadPoolExecutor(max_workers=len(givers)) as pool:
        list(pool.map(one, givers))
    with database.reading() as session:
        assert counts_by_person(session, TEAM, Role.RECEIVERS, (at, None)) == {"URECEIVE1": 12}
        assert principle_counts(session, TEAM, [(None, None)]) == [{pid: 12}]


def test_the_migration_counts_the_kudos_recorded_before_it(fresh_url: str) -> None:
    database = Database(fresh_url)
    try:
        upgrade(database)
        sync(database, TEAM)
        pids = list(principle_ids(database, TEAM).values())
        rng = random.Random(3)
        rows = []
        for at in instants(rng, 60):
            giver, receiver = rng.sample(PEOPLE, 2)
            rows.append((giver, receiver, rng.choice(pids), at, rng.random() < 0.2))
        seed(database, [_row(*row) for row in rows])
        expected = tallies(database)
        assert expected
        downgrade(database, "0007")
        upgrade(database)
        assert tallies(database) == expected
    finally:
        database.dispose()


def _row(
    giver: str, receiver: str, pid: int, at: dt.datetime, withdrawn: bool
) -> dict[str, object]:
    from tests.support.reports import kudos_row

    return kudos_row(TEAM, giver, receiver, pid, at, withdrawn=withdrawn)


@examples(25)
@given(zone=st.sampled_from(ZONES), period=periods, role=st.sampled_from(list(Role)))
def test_a_leaderboards_top_and_caller_rank_the_raw_counts(
    database: Database, history: dict[str, int], zone: str, period: object, role: Role
) -> None:
    """The top 3 ranks (ties included) and a caller below them, for any period in any zone
    (a quarter and all time read their own buckets), are the raw counts' competition ranks."""
    assert hasattr(period, "bounds")
    bounds = period.bounds(ZoneInfo(zone))
    raw = raw_by_person(database, role, bounds, None)
    caller = min(raw, key=lambda user: (raw[user], user)) if raw else None
    with database.reading() as session:
        board = leaderboard(
            session=session,
            team_id=TEAM,
            period=period,  # type: ignore[arg-type]
            bounds=bounds,
            role=role,
            caller_id=caller,
            top=3,
            split_top=0,
        )

    def rank(user: str) -> int:
        return 1 + sum(1 for n in raw.values() if n > raw[user])

    assert {(s.user_id, s.count, s.rank) for s in board.entries} == {
        (user, n, rank(user)) for user, n in raw.items() if rank(user) <= 3
    }
    if caller is not None and rank(caller) > 3:
        assert board.caller is not None
        assert (board.caller.user_id, board.caller.rank) == (caller, rank(caller))
    assert (board.total, board.people) == (sum(raw.values()), len(raw))


def test_quick_reads_sets_each_setting_once_a_transaction_and_again_in_the_next(
    database: Database,
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("the settings are PostgreSQL's")
    sent: list[str] = []

    def record(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        for _ in range(2):
            with database.reading() as session:
                quick_reads(session)
                quick_reads(session)
                assert session.scalar(text("SHOW jit")) == "off"
                assert session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert sum(statement.startswith("SET LOCAL") for statement in sent) == 6


# PostgreSQL: a lock someone in this database waits for.
_WAITING = text(
    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
    "WHERE NOT l.granted AND a.datname = current_database()"
)


def wait_until_blocked(watcher: Connection, work: Future[Any]) -> None:
    """Until someone waits for a lock, or `work` is done, at most 15 s."""
    for _ in range(300):
        if watcher.scalar(_WAITING) or work.done():
            return
        watcher.rollback()
        time.sleep(0.05)


def test_a_withdrawal_while_the_latest_month_is_rebuilt_waits_instead_of_deadlocking(
    database: Database, history: dict[str, int]
) -> None:
    """PostgreSQL: the rebuild of the latest month holds `kudos` (SHARE) and then takes the
    tallies' quarter lock to recount the month's histogram, in that order (its transaction
    here, made of the rebuild's own steps). A withdrawal of that month's kudos arriving in
    between waits for `kudos` before it takes the lock, so the recount goes on and the
    withdrawal follows once the month commits. It had taken the lock first and then waited
    for `kudos`: PostgreSQL ended one of the two as a deadlock."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock serialises the rebuild and the withdrawal")
    february = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    with database.reading() as session:
        group_id, giver_id = session.execute(
            select(Kudos.group_id, Kudos.giver_id)
            .where(
                Kudos.team_id == TEAM, Kudos.withdrawn_at.is_(None), Kudos.created_at >= february
            )
            .limit(1)
        ).one()
    now = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)

    def withdraw() -> tuple[str, ...]:
        with database.transaction() as session:
            return withdraw_group(
                session=session,
                team_id=TEAM,
                giver_id=giver_id,
                giver_timezone=None,
                group_id=group_id,
                now=now,
            ).receiver_ids

    with ThreadPoolExecutor(max_workers=1) as pool, database.engine.connect() as watcher:
        with database.transaction() as session:
            session.execute(text("LOCK TABLE kudos IN SHARE MODE"))
            withdrawn = pool.submit(withdraw)
            wait_until_blocked(watcher, withdrawn)
            assert not withdrawn.done()  # it waits for the rebuild's month
            recount_histogram(session, TEAM, Grain.MONTH, dt.date(2026, 2, 1))
        assert withdrawn.result(timeout=60)
    with database.reading() as session:
        now_withdrawn = session.scalars(
            select(Kudos.receiver_id).where(
                Kudos.team_id == TEAM, Kudos.group_id == group_id, Kudos.withdrawn_at == now
            )
        ).all()
    assert sorted(now_withdrawn) == sorted(withdrawn.result())


def test_the_rebuild_command_with_two_jobs_counts_every_team_again(
    database: Database,
    history: dict[str, int],
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`missionbot db rebuild-summaries --jobs 2` from empty tallies: every team's, as the
    write path kept them, and one line per team on stderr."""
    kept = tallies(database)
    with database.transaction() as session:
        session.execute(text("DELETE FROM kudos_tallies"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["db", "rebuild-summaries", "--jobs", "2"]) == 0
    assert tallies(database) == kept
    lines = capsys.readouterr().err.strip().splitlines()
    assert sorted(line.split(":")[0] for line in lines) == sorted((TEAM, OTHER_TEAM))
    assert all(re.fullmatch(r"T\w+: rebuilt [1-9]\d* months", line) for line in lines), lines


def test_a_rebuild_over_tallies_that_are_right_rewrites_none_of_them(
    database: Database, history: dict[str, int]
) -> None:
    """Only the tallies that differ from the kudos are written (PostgreSQL: a row written
    again moves to a new place in the table, its `ctid`); those that differ are mended."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("a row's place in the table is PostgreSQL's ctid")
    places = text(
        "SELECT ctid::text, team_id, role, grain, principle_id, bucket, user_id FROM kudos_tallies"
    )
    with database.reading() as session:
        before = set(session.execute(places).all())
    kept = tallies(database)
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    rebuild_team(database, TEAM, now)
    with database.reading() as session:
        assert set(session.execute(places).all()) == before
    with database.transaction() as session:
        session.execute(
            text("UPDATE kudos_tallies SET kudos = kudos + 1 WHERE team_id = :t AND user_id = :a"),
            {"t": TEAM, "a": PEOPLE[0]},
        )
    rebuild_team(database, TEAM, now)
    assert tallies(database) == kept
    with database.reading() as session:
        after = set(session.execute(places).all())
    assert {row[1:] for row in before - after} == {
        row[1:] for row in before if row[1] == TEAM and row[6] == PEOPLE[0]
    }


@JOBS
def test_a_kudos_given_while_the_latest_month_is_rebuilt_counts_once(
    database: Database, history: dict[str, int], jobs: int
) -> None:
    """PostgreSQL: the rebuild of a month that may still change holds `kudos` (SHARE) for its
    transaction. A kudos being given when it starts is waited for and counted by the
    rebuild; had the rebuild not waited, it would have set the (wrong) tallies that kudos
    had just raised to what it counted before it (a lost kudos)."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock serialises the rebuild and the kudos")
    now = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)

    def stop_before_february(done: int, total: int) -> None:
        if done == total - 1:  # every month but February done
            raise Interrupted

    with pytest.raises(Interrupted):
        rebuild_team(database, TEAM, now, stop_before_february, jobs)
    # February's tallies wrong, so that the rebuild writes them (it writes only the tallies
    # that differ), and a receiver who has one.
    with database.transaction() as session:
        session.execute(
            text(
                "UPDATE kudos_tallies SET kudos = kudos + 5 WHERE team_id = :t "
                "AND bucket = '2026-02-01' AND grain = 'm'"
            ),
            {"t": TEAM},
        )
        receiver = session.scalars(
            select(KudosTally.user_id).where(
                KudosTally.team_id == TEAM,
                KudosTally.role == "r",
                KudosTally.grain == "m",
                KudosTally.principle_id == 0,
                KudosTally.bucket == dt.date(2026, 2, 1),
            )
        ).first()
    assert receiver is not None
    pid = next(iter(history.values()))
    with ThreadPoolExecutor(max_workers=1) as pool, database.engine.connect() as watcher:
        with database.transaction() as session:
            give(
                session=session,
                giving=Giving(
                    recipients=(Recipient(receiver),),
                    principle_id=pid,
                    message="thanks, given while the rebuild starts",
                    source=Source.COMMAND,
                ),
                giver=Giver(next(p for p in PEOPLE if p != receiver)),
                place=Place(team_id=TEAM, channel_id="CSUMMARY1", audience=Audience.PUBLIC),
                limit=10_000,
                now=now,
            )
            resumed = pool.submit(rebuild_team, database, TEAM, now, None, jobs)
            wait_until_blocked(watcher, resumed)
            assert not resumed.done()  # the rebuild waits for the kudos's transaction
        assert resumed.result(timeout=60).resumed
    kept = tallies(database)
    with database.reading() as session:
        month = session.scalar(
            select(KudosTally.kudos).where(
                KudosTally.team_id == TEAM,
                KudosTally.role == "r",
                KudosTally.grain == "m",
                KudosTally.principle_id == 0,
                KudosTally.bucket == dt.date(2026, 2, 1),
                KudosTally.user_id == receiver,
            )
        )
    assert month == raw_by_person(
        database,
        Role.RECEIVERS,
        (dt.datetime(2026, 2, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, tzinfo=dt.UTC)),
        None,
    ).get(receiver)
    with database.transaction() as session:
        session.execute(text("DELETE FROM kudos_tallies"))
    for team in (TEAM, OTHER_TEAM):
        rebuild_team(database, team, now)
    assert tallies(database) == kept
