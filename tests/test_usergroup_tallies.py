"""A user group's tallies (migration 0026, bot/reports/usergroup_tallies.py) against the raw
kudos, on SQLite and PostgreSQL: filled a slice at a time, kept by the triggers through
kudos given, changed, withdrawn and deleted, moved with the group's membership (a few people
joining and leaving, or a new membership outright); the group's pages read from them equal
the raw kudos' for random periods, timezones and principles; and, on PostgreSQL, kudos given
while a group fills or its membership moves are each counted once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import OperationalError

from bot.db.engine import Database
from bot.db.models import Kudos, KudosChannelTally, TalliedUsergroup
from bot.insights import numbers
from bot.insights.window import Filters, parse_window
from bot.reports import usergroup_tallies
from bot.reports.usergroup_tallies import GroupTallies, is_current
from tests.support.reports import kudos_row, principle_ids, sync
from tests.test_channel_tallies import (
    OTHER,
    PEOPLE,
    SETTINGS,
    TEAM,
    TODAY,
    ZONES,
    _postgresql_only,
    _rows,
    raw_tallies,
    tallies,
)
from tests.test_summaries import give_at

GROUP = "S0GROUP001"
SECOND = "S0GROUP002"
MEMBERS = frozenset(PEOPLE[:3])
NOW = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)


def _clock() -> dt.datetime:
    return NOW


def _seed(database: Database) -> None:
    sync(database, TEAM)
    sync(database, OTHER)
    rows = _rows(TEAM, list(principle_ids(database, TEAM).values()), 220, 3)
    rows += _rows(OTHER, list(principle_ids(database, OTHER).values()), 40, 4)
    with database.transaction() as session:
        session.execute(insert(Kudos), rows)


def _tally(
    database: Database,
    members: frozenset[str],
    group: str = GROUP,
    *,
    slice_kudos: int = 9,
    limit: int = 20,
) -> bool:
    return usergroup_tallies.sync(
        database, TEAM, group, members, clock=_clock, limit=limit, slice_kudos=slice_kudos
    )


def _current(database: Database, members: frozenset[str], group: str = GROUP) -> bool:
    with database.reading() as session:
        return is_current(session, TEAM, group, members)


def test_a_groups_tallies_count_its_members_kudos_through_every_change(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filled in slices of nine kudos, then: kudos given, moved to another month, person or
    principle, withdrawn, withdrawn no more and deleted behind the write path's back;
    members joining and leaving; a membership changed outright (started over). The other
    team's kudos of the same people, and the channels' tallies, stay as they were."""
    _seed(database)
    assert not _current(database, MEMBERS)
    assert _tally(database, MEMBERS)
    assert _current(database, MEMBERS)
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): MEMBERS})

    pids = list(principle_ids(database, TEAM).values())
    with database.transaction() as session:
        ids = session.scalars(
            select(Kudos.id).where(Kudos.team_id == TEAM).order_by(Kudos.id)
        ).all()
        moved = dt.datetime(2026, 2, 28, 23, 59, tzinfo=dt.UTC)
        session.execute(update(Kudos).where(Kudos.id == ids[0]).values(created_at=moved))
        session.execute(update(Kudos).where(Kudos.id == ids[1]).values(giver_id=PEOPLE[7]))
        session.execute(update(Kudos).where(Kudos.id == ids[2]).values(receiver_id=PEOPLE[0]))
        session.execute(update(Kudos).where(Kudos.id == ids[3]).values(principle_id=pids[-1]))
        session.execute(update(Kudos).where(Kudos.id.in_(ids[4:9])).values(withdrawn_at=NOW))
        session.execute(
            update(Kudos).where(Kudos.withdrawn_at.is_not(None)).values(withdrawn_at=None)
        )
        session.execute(delete(Kudos).where(Kudos.id.in_(ids[10:15])))
        session.execute(
            insert(Kudos), [kudos_row(TEAM, PEOPLE[6], PEOPLE[1], pids[0], NOW, channel=None)]
        )
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): MEMBERS})
    give_at(database, TEAM, PEOPLE[5], [PEOPLE[2], PEOPLE[6]], pids[1], NOW)
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): MEMBERS})

    # Two join, one leaves: the difference, in one transaction.
    moved_members = (MEMBERS - {PEOPLE[0]}) | {PEOPLE[5], PEOPLE[6]}
    assert not _current(database, moved_members)
    assert _tally(database, moved_members)
    assert _current(database, moved_members)
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): moved_members})

    # A new membership outright: its rows deleted seven at a time, then filled again.
    monkeypatch.setattr(usergroup_tallies, "RESET_CHANGES", 2)
    monkeypatch.setattr(usergroup_tallies, "_FORGET_ROWS", 7)
    renewed = frozenset(PEOPLE[4:7])
    assert _tally(database, renewed)
    assert _current(database, renewed)
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): renewed})
    # Nobody left: the group counts nothing, and its rows are all at 0.
    assert _tally(database, frozenset())
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): frozenset()})


def test_a_membership_change_during_the_fill_counts_the_older_kudos_with_the_new_members(
    database: Database,
) -> None:
    """The fill is stopped half way (as a process stopping would leave it); the members
    change; the next sync moves the counted part and fills the rest with the new members."""
    _seed(database)
    with database.transaction() as session:
        group = TalliedUsergroup(
            team_id=TEAM,
            group_id=GROUP,
            members_digest=usergroup_tallies.digest(MEMBERS),
            counted_since=NOW,
        )
        session.add(group)
        usergroup_tallies._start(session, group, MEMBERS, NOW)
    for _ in range(6):
        with database.transaction() as session:
            assert usergroup_tallies._fill_slice(session, TEAM, GROUP, 9)
    assert not _current(database, MEMBERS)
    joined = MEMBERS | {PEOPLE[4]}
    assert _tally(database, joined)
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): joined})


def _group_rows(database: Database, *, at_zero: bool = False) -> int:
    """The group's rows in the tallies (`at_zero`: those at 0, which a difference leaves for
    a leaver's months and a group filled afresh doesn't have)."""
    t = KudosChannelTally
    conditions = [t.channel_id == GROUP] + ([t.kudos == 0] if at_zero else [])
    with database.reading() as session:
        return int(session.scalar(select(func.count()).select_from(t).where(*conditions)) or 0)


def test_a_change_of_people_with_many_kudos_starts_the_group_over(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One person leaving is a difference; one leaving with more kudos than `RESET_KUDOS`
    (a busy receiver at ten million kudos) starts the group over instead; both exact."""
    _seed(database)
    assert _tally(database, MEMBERS)
    one_left = MEMBERS - {PEOPLE[0]}
    assert _tally(database, one_left)
    assert _group_rows(database, at_zero=True) > 0
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): one_left})
    monkeypatch.setattr(usergroup_tallies, "RESET_KUDOS", 3)
    two_left = one_left - {PEOPLE[1]}
    assert _tally(database, two_left)
    assert _group_rows(database, at_zero=True) == 0
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): two_left})


def test_a_group_started_over_and_stopped_half_way_is_finished_and_counted_once(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A membership changed outright: the process stops after two batches of the old rows'
    deletion; a kudos is given meanwhile (the group counts nobody then); the next sync
    finishes the deletion and fills the group for its new members."""
    _seed(database)
    assert _tally(database, MEMBERS)
    monkeypatch.setattr(usergroup_tallies, "RESET_CHANGES", 2)
    monkeypatch.setattr(usergroup_tallies, "_FORGET_ROWS", 5)
    renewed = frozenset(PEOPLE[4:7])
    with database.transaction() as session:
        met = usergroup_tallies._meet(session, TEAM, GROUP, renewed, NOW, 20)
    assert met is usergroup_tallies._Met.FORGOTTEN
    usergroup_tallies._forget_rows(database, TEAM, GROUP, batches=2)
    assert _group_rows(database)  # some of the old rows are left
    assert not _current(database, MEMBERS)
    assert not _current(database, renewed)
    pids = list(principle_ids(database, TEAM).values())
    give_at(database, TEAM, PEOPLE[4], [PEOPLE[0]], pids[0], NOW)
    assert _tally(database, renewed)
    assert _current(database, renewed)
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): renewed})


def test_a_workspace_tallies_at_most_its_share_of_groups(database: Database) -> None:
    _seed(database)
    assert _tally(database, MEMBERS, limit=1)
    assert not _tally(database, frozenset(PEOPLE[3:5]), SECOND, limit=1)
    with database.transaction() as session:  # decided again under the hold
        met = usergroup_tallies._meet(session, TEAM, SECOND, frozenset(PEOPLE[3:5]), NOW, 1)
    assert met is usergroup_tallies._Met.FULL
    assert not _current(database, frozenset(PEOPLE[3:5]), SECOND)
    with database.reading() as session:
        groups = session.scalars(select(TalliedUsergroup.group_id)).all()
    assert groups == [GROUP]
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): MEMBERS})


@SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    period=st.sampled_from(["week", "month", "quarter", "year", "all", "2026-02", "2026-03"]),
    principle=st.sampled_from([None, "plain-words"]),
    members=st.sampled_from([MEMBERS, frozenset(PEOPLE[2:6]), frozenset({PEOPLE[7]})]),
)
def test_a_groups_pages_from_its_tallies_are_its_raw_kudos_pages(
    database: Database, zone: str, period: str, principle: str | None, members: frozenset[str]
) -> None:
    """The overview, the principles, a principle's page and the leaderboards of a tallied
    group, for any period, timezone and principle, equal those read from its raw kudos
    (local months' edge hours, weeks, previous periods, withdrawn kudos)."""
    with database.reading() as session:
        known = session.scalar(select(func.count()).select_from(Kudos))
    if not known:
        _seed(database)
    assert _tally(database, members)
    window = parse_window(period, None, None, today=TODAY, zone=ZoneInfo(zone))
    raw = Filters(group_id=GROUP, principle_key=principle, members=members)
    tallied = dataclasses.replace(raw, tallied=True)
    with database.reading() as session:
        pages = [
            (
                numbers.overview(session, TEAM, window, filters, today=TODAY),
                numbers.principle_rows(session, TEAM, window, filters, today=TODAY),
                numbers.principle_detail(
                    session,
                    TEAM,
                    window,
                    filters,
                    "plain-words",
                    viewer_id=PEOPLE[0],
                    today=TODAY,
                ),
                numbers.leaderboards(session, TEAM, window, filters),
            )
            for filters in (raw, tallied)
        ]
    assert pages[1] == pages[0]


def test_the_dashboard_reads_a_group_raw_until_its_tallies_are_current(
    database: Database,
) -> None:
    """`GroupTallies.current` answers False and brings the group up to date in the
    background; once done, True, until the members change."""
    _seed(database)
    keeper = GroupTallies(database, _clock, 20)
    assert not keeper.current(TEAM, GROUP, MEMBERS)
    assert keeper.wait(60)
    assert keeper.current(TEAM, GROUP, MEMBERS)
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): MEMBERS})
    assert not keeper.current(TEAM, GROUP, MEMBERS | {PEOPLE[7]})


# -- at once, on PostgreSQL ------------------------------------------------------------------


def test_kudos_given_while_a_group_fills_and_its_members_change_count_once(
    database: Database,
) -> None:
    """Four givers give kudos (now, and into the past the fill is still reading) while the
    group fills in slices of five and then gains and loses members: every kudos is counted
    once, by the triggers or by the fill."""
    _postgresql_only(database)
    _seed(database)
    pids = list(principle_ids(database, TEAM).values())
    stop = threading.Event()
    given_kudos = [0]
    errors: list[BaseException] = []

    def giving(n: int) -> None:
        rng = random.Random(n)
        try:
            while not stop.is_set():
                giver, receiver = rng.sample(PEOPLE, 2)
                at = NOW - dt.timedelta(hours=rng.randrange(0, 24 * 50))
                give_at(database, TEAM, giver, [receiver], rng.choice(pids), at)
                given_kudos[0] += 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=giving, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        assert _tally(database, MEMBERS, slice_kudos=5)
        assert _tally(database, (MEMBERS | {PEOPLE[5]}) - {PEOPLE[1]}, slice_kudos=5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert given_kudos[0] > 0
    final = (MEMBERS | {PEOPLE[5]}) - {PEOPLE[1]}
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): final})


def test_two_processes_syncing_one_group_take_turns(database: Database) -> None:
    """Two syncs of one new group at once (two processes' dashboards): one fills it, the
    other finds it current or leaves it to the first; nothing is counted twice."""
    _postgresql_only(database)
    _seed(database)
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def one() -> None:
        barrier.wait(timeout=30)
        results.append(_tally(database, MEMBERS, slice_kudos=7))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # The second finds it current, or finds the first at it and leaves it to it.
    assert True in results
    assert _current(database, MEMBERS)
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): MEMBERS})
    assert _group_rows(database)


def test_a_sync_waits_for_the_writes_at_most_half_a_second(database: Database) -> None:
    """A kudos transaction left open: the sync's hold of the writes gives up after
    `LOCK_WAIT_MS` (every kudos written meanwhile would wait behind it), changing nothing;
    once the transaction ends, the next sync brings the group up to date."""
    _postgresql_only(database)
    _seed(database)
    pids = list(principle_ids(database, TEAM).values())
    with database.engine.connect() as open_write:
        open_write.execute(
            insert(Kudos), [kudos_row(TEAM, PEOPLE[0], PEOPLE[4], pids[0], NOW, channel=None)]
        )
        # The server's lock timeout ends the wait (it would last as long as the write's
        # transaction otherwise).
        with pytest.raises(OperationalError, match="lock timeout"):
            _tally(database, MEMBERS)
        open_write.commit()
    assert not _current(database, MEMBERS)
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(TalliedUsergroup)) == 0
    assert _tally(database, MEMBERS)
    assert tallies(database) == raw_tallies(database, {(TEAM, GROUP): MEMBERS})


def test_with_no_groups_allowed_the_dashboard_reads_every_group_raw(database: Database) -> None:
    """MISSIONBOT_TALLIED_GROUPS=0: nothing is tallied, nothing is asked for."""
    _seed(database)
    keeper = GroupTallies(database, _clock, 0)
    assert not keeper.current(TEAM, GROUP, MEMBERS)
    assert keeper.idle()
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(TalliedUsergroup)) == 0


def test_a_page_asked_for_with_stale_tallies_reads_the_raw_kudos(database: Database) -> None:
    """The dashboard found the tallies current, then Slack's members changed before the
    page's own snapshot: the page checks again there and reads the raw kudos for the new
    members (the boards had fallen to the whole team's)."""
    _seed(database)
    assert _tally(database, MEMBERS)
    moved = MEMBERS | {PEOPLE[6]}
    window = parse_window("month", None, None, today=TODAY, zone=ZoneInfo("UTC"))
    raw = Filters(group_id=GROUP, members=moved)
    stale = dataclasses.replace(raw, tallied=True)
    with database.reading() as session:
        pages = [
            (
                numbers.overview(session, TEAM, window, filters, today=TODAY),
                numbers.principle_rows(session, TEAM, window, filters, today=TODAY),
                numbers.leaderboards(session, TEAM, window, filters),
            )
            for filters in (raw, stale)
        ]
    assert pages[1] == pages[0]
    assert pages[0][0].totals.kudos > 0
