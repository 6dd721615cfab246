"""The channel tallies (`kudos_channel_tallies`, migration 0023) against the raw kudos, on
SQLite and PostgreSQL: kept by triggers through kudos given, withdrawn, changed and deleted
behind the write path's back, and filled by the migration from the kudos recorded before it;
a channel's people and per-principle counts (bot/reports/channels.py) for random periods and
timezones equal the raw kudos'."""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from bot.audience import Audience
from bot.db.engine import Database
from bot.db.migrate import downgrade, upgrade
from bot.db.models import Kudos, KudosChannelTally
from bot.insights import numbers
from bot.insights.window import parse_window
from bot.kudos.service import Giver, Giving, Place, Recipient, Source, give, withdraw_group
from bot.reports import channels
from bot.reports.health import TOP_RECEIVERS
from bot.reports.summaries import ALL_PRINCIPLES
from tests.support.reports import kudos_row, principle_ids, sync
from tests.test_summaries import give_at

TEAM = "T0CHANNEL"
OTHER = "T0CHANNEX"
PEOPLE = [f"UC{n:03d}X" for n in range(8)]
CHANNELS = ["CONE000001", "CTWO000002", None]
START = dt.datetime(2026, 1, 25, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 20)
ZONES = ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "America/New_York"]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _rows(team: str, pids: list[int], count: int, seed: int) -> list[dict[str, object]]:
    """Kudos around UTC and local month ends (and anywhere), some withdrawn, in two channels
    and none."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        month_end = dt.datetime(2026, rng.choice([2, 3]), 1, tzinfo=dt.UTC)
        if rng.random() < 0.6:
            at = month_end + dt.timedelta(seconds=rng.randrange(-20 * 3600, 20 * 3600))
        else:
            at = START + dt.timedelta(seconds=rng.randrange(50 * 86_400))
        giver, receiver = rng.sample(PEOPLE, 2)
        rows.append(
            kudos_row(
                team,
                giver,
                receiver,
                rng.choice(pids),
                at,
                withdrawn=rng.random() < 0.15,
                channel=rng.choice(CHANNELS),
            )
        )
    return rows


def raw_tallies(
    database: Database, groups: Mapping[tuple[str, str], frozenset[str]] | None = None
) -> Counter[tuple[object, ...]]:
    """The reference: every row the table should hold with a count other than 0, counted
    here from the kudos (the people counts: rows above 0 per month, principle and role): the
    channels', and under the ID of each of `groups` ((team, group) → members) the kudos
    whose giver or receiver is one of its members (migration 0026)."""
    with database.reading() as session:
        rows = session.execute(
            select(
                Kudos.team_id,
                Kudos.channel_id,
                Kudos.created_at,
                Kudos.principle_id,
                Kudos.giver_id,
                Kudos.receiver_id,
            ).where(Kudos.withdrawn_at.is_(None))
        ).all()
    found: Counter[tuple[object, ...]] = Counter()
    for team, channel, at, pid, giver, receiver in rows:
        day = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).date()
        month = day.replace(day=1)
        scopes = [channel] if channel is not None else []
        scopes += [
            group
            for (owner, group), members in (groups or {}).items()
            if owner == team and {giver, receiver} & members
        ]
        for scope in scopes:
            found[team, scope, "p", day, pid, ""] += 1
            for role, user in (("g", giver), ("r", receiver)):
                for principle in (pid, ALL_PRINCIPLES):
                    found[team, scope, role, month, principle, user] += 1
    people: Counter[tuple[object, ...]] = Counter()
    for team, scope, role, bucket, principle, _user in list(found):
        if role in "gr":
            people[team, scope, role.upper(), bucket, principle, ""] += 1
    found.update(people)
    return found


def tallies(database: Database) -> Counter[tuple[object, ...]]:
    t = KudosChannelTally
    with database.reading() as session:
        rows = session.execute(
            select(
                t.team_id, t.channel_id, t.role, t.bucket, t.principle_id, t.user_id, t.kudos
            ).where(t.kudos != 0)
        ).all()
    return Counter({tuple(row[:-1]): int(row[-1]) for row in rows})


def _seed(database: Database) -> dict[str, int]:
    sync(database, TEAM)
    sync(database, OTHER)
    pids = principle_ids(database, TEAM)
    rows = _rows(TEAM, list(pids.values()), 220, 3)
    rows += _rows(OTHER, list(principle_ids(database, OTHER).values()), 40, 4)
    with database.transaction() as session:
        session.execute(insert(Kudos), rows)
    return pids


def test_the_channel_tallies_follow_every_change_to_the_kudos(database: Database) -> None:
    """Kept by triggers: kudos inserted, then changed (moved to another month, channel,
    principle or person; withdrawn; withdrawn no more) and deleted behind the write path's
    back, as a bulk load or an older release would."""
    _seed(database)
    assert tallies(database) == raw_tallies(database)
    with database.transaction() as session:
        ids = session.scalars(select(Kudos.id).order_by(Kudos.id)).all()
        moved = dt.datetime(2026, 2, 28, 23, 59, tzinfo=dt.UTC)
        table = Kudos.__table__
        session.execute(
            table.update()
            .where(Kudos.id.in_(ids[::7]))
            .values(created_at=moved, receiver_id=PEOPLE[5])
        )
        session.execute(
            table.update().where(Kudos.id.in_(ids[5::11])).values(channel_id=CHANNELS[1])
        )
        session.execute(table.update().where(Kudos.id.in_(ids[6::13])).values(channel_id=None))
        session.execute(
            table.update()
            .where(Kudos.id.in_(ids[1::5]))
            .values(withdrawn_at=func.coalesce(Kudos.withdrawn_at, moved))
        )
        session.execute(table.update().where(Kudos.id.in_(ids[2::9])).values(withdrawn_at=None))
        session.execute(table.update().where(Kudos.id.in_(ids[3::4])).values(message="x"))
        session.execute(table.delete().where(Kudos.id.in_(ids[4::6])))
    assert tallies(database) == raw_tallies(database)


def test_the_migration_counts_the_kudos_recorded_before_it(fresh_url: str) -> None:
    database = Database(fresh_url)
    try:
        upgrade(database, "0020")
        _seed(database)
        expected = raw_tallies(database)
        upgrade(database)
        assert tallies(database) == expected
        downgrade(database, "0020")
        upgrade(database)
        assert tallies(database) == expected
    finally:
        database.dispose()


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=st.sampled_from(["week", "month", "quarter", "year", "all", "2026-02", "2026-03"]),
    channel=st.sampled_from(["CONE000001", "CTWO000002", "CNOKUDOS1"]),
    principle=st.sampled_from([None, "plain-words"]),
)
def test_a_channels_people_and_principle_counts_are_the_raw_kudos(
    database: Database, zone: str, period: str, channel: str, principle: str | None
) -> None:
    """Distinct givers and receivers and the top receivers' kudos, per principle and for all
    together, and the kudos per principle of the window and each of its weeks, with the
    withdrawn kudos, the local month's edge hours and a channel without kudos."""
    with database.reading() as session:
        known = session.scalar(select(func.count()).select_from(Kudos))
    if not known:
        _seed(database)
    pids = principle_ids(database, TEAM)
    pid = pids[principle] if principle else None
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    weeks = numbers.weeks_of(window, TODAY)
    periods = [window.bounds, *(w.bounds(ZoneInfo(zone)) for w in weeks)]
    with database.reading() as session:
        rows = session.scalars(select(Kudos).where(Kudos.team_id == TEAM)).all()
        scope = channels.Scope(channel)
        found = channels.people(session, TEAM, scope, window.bounds, pid, TOP_RECEIVERS)
        overall = channels.people(session, TEAM, scope, window.bounds, ALL_PRINCIPLES, top=0)
        counts = channels.principle_counts(session, TEAM, scope, periods)

    def kept(bounds: tuple[dt.datetime | None, dt.datetime | None]) -> list[Kudos]:
        start, end = bounds
        return [
            r
            for r in rows
            if r.withdrawn_at is None
            and r.channel_id == channel
            and (start is None or _utc(r.created_at) >= start)
            and (end is None or _utc(r.created_at) < end)
        ]

    inside = kept(window.bounds)
    expected: dict[int, tuple[int, int, int]] = {}
    for key in {r.principle_id for r in inside} | ({ALL_PRINCIPLES} if pid is None else set()):
        mine = [r for r in inside if key == ALL_PRINCIPLES or r.principle_id == key]
        if pid is not None and key != pid:
            continue
        received = Counter(r.receiver_id for r in mine)
        top = sum(n for _user, n in received.most_common(TOP_RECEIVERS))
        if mine:
            expected[key] = (len({r.giver_id for r in mine}), len(received), top)
    assert {k: (p.givers, p.receivers, p.top_receivers) for k, p in found.items()} == expected
    everyone = expected.get(ALL_PRINCIPLES) if pid is None else None
    if everyone is None:
        everyone = (len({r.giver_id for r in inside}), len({r.receiver_id for r in inside}), 0)
    got = overall.get(ALL_PRINCIPLES)
    assert ((got.givers, got.receivers) if got else (0, 0)) == everyone[:2]
    assert counts == [dict(Counter(r.principle_id for r in kept(b))) for b in periods]


def _utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


# -- at once, on PostgreSQL: two kudos in one channel, and kudos during the fill -----------


def _postgresql_only(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock serialises writers")


def _waiting(database: Database, pid: int) -> bool:
    """Whether the backend `pid` waits for a lock."""
    with database.engine.connect() as probe:
        return bool(
            probe.scalar(
                text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                {"pid": pid},
            )
        )


def test_two_kudos_to_people_new_to_the_month_in_one_channel_take_turns(
    database: Database,
) -> None:
    """A kudos to (a, b) and one to (b, c), different principles, everyone new to the month,
    their rows interleaved: the second waits for the first from its first row (the quarter's
    lock), where without it each held a row the other's next row needed (b's month row, the
    month's people count) and PostgreSQL ended one of them as a deadlock."""
    _postgresql_only(database)
    sync(database, TEAM)
    first_pid, second_pid = list(principle_ids(database, TEAM).values())[:2]
    at = dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC)
    a, b, c = PEOPLE[2], PEOPLE[3], PEOPLE[4]

    def row(giver: str, receiver: str, pid: int) -> dict[str, object]:
        return kudos_row(TEAM, giver, receiver, pid, at, channel=CHANNELS[0])

    errors: list[BaseException] = []
    with database.engine.connect() as first, database.engine.connect() as second:
        second_backend = second.scalar(text("SELECT pg_backend_pid()"))
        second.commit()
        first.execute(insert(Kudos), [row(PEOPLE[0], a, first_pid)])

        def other() -> None:
            try:
                second.execute(insert(Kudos), [row(PEOPLE[1], b, second_pid)])
                second.execute(insert(Kudos), [row(PEOPLE[1], c, second_pid)])
                second.commit()
            except DBAPIError as error:
                errors.append(error)
                second.rollback()

        thread = threading.Thread(target=other)
        thread.start()
        waited = time.monotonic() + 10
        while not _waiting(database, second_backend) and time.monotonic() < waited:
            time.sleep(0.02)
        assert _waiting(database, second_backend), "the second kudos never waited"
        try:
            first.execute(insert(Kudos), [row(PEOPLE[0], b, first_pid)])
            first.commit()
        except DBAPIError as error:
            errors.append(error)
            first.rollback()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert errors == []
    assert tallies(database) == raw_tallies(database)


def test_kudos_to_several_people_given_at_once_in_one_channel_all_count(
    database: Database,
) -> None:
    """Four givers at once, each round in a month new to everyone, each kudos to two or three
    people the others name too, under different principles, through the service."""
    _postgresql_only(database)
    sync(database, TEAM)
    pids = list(principle_ids(database, TEAM).values())
    givers = PEOPLE[:4]
    start = threading.Barrier(len(givers))

    def rounds(n: int) -> None:
        for month in range(1, 9):
            start.wait(timeout=30)
            receivers = [p for p in PEOPLE[4:] if p != givers[n]][n % 2 :][:3]
            at = dt.datetime(2025, month, 3, 12, n, tzinfo=dt.UTC)
            give_at(database, TEAM, givers[n], receivers, pids[n % len(pids)], at)

    with ThreadPoolExecutor(max_workers=len(givers)) as pool:
        list(pool.map(rounds, range(len(givers))))
    expected = raw_tallies(database)
    assert sum(n for key, n in expected.items() if key[2] == "p") == 8 * 4 * 3
    assert tallies(database) == expected


def test_a_kudos_to_hundreds_writes_each_channel_tally_once(database: Database) -> None:
    """A kudos to 300 people, given then withdrawn, each in one transaction: on PostgreSQL
    the channel tallies' rows are written once each, not once per receiver (the giver's, the
    day's and the people counts' rows, updated 300 times in one transaction, cost more with
    every update: 3.8 s for 500 receivers), and on both the tallies are the raw kudos'."""
    sync(database, TEAM)
    pid = next(iter(principle_ids(database, TEAM).values()))
    receivers = [f"UH{n:04d}X" for n in range(300)]
    at = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    postgresql = database.engine.dialect.name == "postgresql"
    # Rows this transaction inserted or updated (one each: an upsert counts once).
    writes = (
        "SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0) FROM pg_stat_xact_user_tables "
        "WHERE relname = 'kudos_channel_tallies'"
    )
    with database.transaction() as session:
        # PostgreSQL's pending counts may hold an earlier transaction's until they're sent.
        before = session.scalar(text(writes)) if postgresql else 0
        given = give(
            session=session,
            giving=Giving(
                recipients=tuple(Recipient(r) for r in receivers),
                principle_id=pid,
                message="thanks, all of you",
                source=Source.COMMAND,
            ),
            giver=Giver(PEOPLE[0]),
            place=Place(team_id=TEAM, channel_id=CHANNELS[0], audience=Audience.PUBLIC),
            limit=10_000,
            now=at,
        )
        if postgresql:
            # One day row, the giver's two person rows, two rows per receiver, and the
            # people counts of the four person keys: each written once.
            assert session.scalar(text(writes)) - before == 1 + 2 + 2 * len(receivers) + 4
    assert tallies(database) == raw_tallies(database)
    assert tallies(database)[TEAM, CHANNELS[0], "R", at.date().replace(day=1), pid, ""] == 300
    with database.transaction() as session:
        before = session.scalar(text(writes)) if postgresql else 0
        withdraw_group(
            session=session,
            team_id=TEAM,
            giver_id=PEOPLE[0],
            giver_timezone=None,
            group_id=given.group_id,
            now=at + dt.timedelta(minutes=1),
        )
        if postgresql:
            assert session.scalar(text(writes)) - before == 1 + 2 + 2 * len(receivers) + 4
    assert tallies(database) == raw_tallies(database) == Counter()


def test_kudos_written_while_the_migration_fills_are_counted_once(fresh_url: str) -> None:
    """PostgreSQL's fill, a few kudos a transaction, while a bot that knows nothing of the
    tallies (the release before) gives kudos now and back-dated, withdraws, restores, moves
    and deletes old ones: every kudos is counted once, by the triggers or the fill."""
    database = Database(fresh_url)
    try:
        _postgresql_only(database)
        upgrade(database, "0020")
        pids = _seed(database)
        rng = random.Random(23)
        filled = threading.Event()
        failures: list[BaseException] = []

        def fill() -> None:
            try:
                upgrade(database, "0023", attributes={migration().FILL_SLICE_ATTRIBUTE: 7})
            except BaseException as error:  # reported by the test's thread
                failures.append(error)
            finally:
                filled.set()

        thread = threading.Thread(target=fill)
        thread.start()
        writes = 0
        while not filled.is_set():
            _one_write(database, rng, list(pids.values()))
            writes += 1
        thread.join(timeout=120)
        assert failures == []
        assert writes >= 20
        assert tallies(database) == raw_tallies(database)
        _one_write(database, rng, list(pids.values()))
        assert tallies(database) == raw_tallies(database)
    finally:
        database.dispose()


def migration() -> ModuleType:
    return import_module("bot.migrations.versions.20261206_0023_kudos_channel_tallies")


def _threshold(database: Database) -> dt.datetime | None:
    """The instant from which the triggers count, read from their function (None: not yet
    created, or counting everything)."""
    with database.engine.connect() as connection:
        source = connection.scalar(
            text("SELECT prosrc FROM pg_proc WHERE proname = 'kudos_channel_count'")
        )
    found = re.search(r"TIMESTAMPTZ '([^']+)'", source or "")
    return dt.datetime.fromisoformat(found.group(1)) if found else None


def _one_write(database: Database, rng: random.Random, pids: list[int]) -> None:
    """One of the writes a running bot (or a hand fix) makes, at random; most aimed at the
    kudos the fill is adding now (the newest older than the triggers' threshold)."""
    table = Kudos.__table__
    threshold = _threshold(database)
    with database.transaction() as session:
        query = select(Kudos.id).where(Kudos.team_id == TEAM)
        if threshold is not None and rng.random() < 0.7:
            query = (
                query.where(Kudos.created_at < threshold)
                .order_by(Kudos.created_at.desc())
                .limit(12)
            )
        ids = session.scalars(query).all() or session.scalars(select(Kudos.id)).all()
        chosen = rng.choice(ids)
        kind = rng.randrange(6)
        if kind == 0:
            at = dt.datetime.now(dt.UTC)
            row = kudos_row(TEAM, PEOPLE[0], PEOPLE[1], rng.choice(pids), at, channel=CHANNELS[0])
            session.execute(insert(Kudos), [row])
        elif kind == 1:
            at = START + dt.timedelta(seconds=rng.randrange(50 * 86_400))
            giver, receiver = rng.sample(PEOPLE, 2)
            row = kudos_row(TEAM, giver, receiver, rng.choice(pids), at, channel=CHANNELS[1])
            session.execute(insert(Kudos), [row])
        elif kind == 2:
            session.execute(
                table.update()
                .where(Kudos.id == chosen)
                .values(withdrawn_at=func.coalesce(Kudos.withdrawn_at, dt.datetime.now(dt.UTC)))
            )
        elif kind == 3:
            session.execute(table.update().where(Kudos.id == chosen).values(withdrawn_at=None))
        elif kind == 4:
            session.execute(
                table.update().where(Kudos.id == chosen).values(channel_id=rng.choice(CHANNELS))
            )
        else:
            session.execute(table.delete().where(Kudos.id == chosen))
