"""A user group's tallies (migration 0026): which groups are counted and for which members,
and bringing a group's tallies up to Slack's membership.

A group's pages read its tallies only while they count exactly Slack's members
(`is_current`); otherwise they read the raw kudos, as before, and `GroupTallies` brings the
group up to date in the background (`sync`):

* a group seen for the first time is counted from now on by the triggers, and its older
  kudos are added a slice at a time, newest first, each slice in a transaction that holds
  `kudos` writes (as migration 0023's fill: SHARE ROW EXCLUSIVE on PostgreSQL, the write
  lock on SQLite) and hands its kudos to the triggers by moving `counted_since` back, so
  every kudos is counted once;
* a changed membership counts in the kudos that now involve a member and didn't, and out
  those that did and don't, in one such transaction;
* a change of more than `RESET_CHANGES` people, or of people with more than `RESET_KUDOS`
  kudos, starts the group over: its members are dropped (so the triggers stop counting it)
  and it is marked as being forgotten, in one such transaction; its rows are deleted a
  batch per transaction, without holding the writes; then it starts as a new group. A
  process stopped half way finishes the deletion the next time.

What to do is decided inside the transaction that holds the writes, from what the database
says then. On PostgreSQL one process at a time syncs a group (an advisory lock it only
tries: another process at it is left to it), and a transaction waits at most
`LOCK_WAIT_MS` for the writes to pause (every kudos written meanwhile waits behind it); past
that the sync stops and the next view asks again. At most `limit` groups a workspace are
counted (MISSIONBOT_TALLIED_GROUPS): each costs every kudos of its members a few more rows.
Lowering the setting stops new groups from being counted; those counted already stay so.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import itertools
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db.engine import Database, lock_wait
from bot.db.models import (
    Clock,
    Kudos,
    KudosChannelTally,
    TalliedUsergroup,
    TalliedUsergroupMember,
    UTCDateTime,
)
from bot.reports import channels

log = logging.getLogger(__name__)

# How long a transaction waits for kudos writes to pause before it holds them (PostgreSQL).
LOCK_WAIT_MS = 500
# A membership change of more people than this (joined and left) starts the group over: its
# difference reads every kudos of each of them under one hold of the writes (a few hundred
# each at ten million kudos), where the fill holds them a slice at a time.
RESET_CHANGES = 50
# Nor may the difference count more kudos than this: each moves about three person rows and
# their people counts, ~180 µs of holding the writes a kudos at ten million kudos (20 people,
# 6,164 kudos: 1.1 s); a busy receiver alone has hundreds of thousands.
RESET_KUDOS = 3_000
# The fill's first slice, in kudos of the workspace (about a fifth of them a group's, for a
# tenth of the people); a slice that held writes longer than `LONGEST_HOLD_S` halves the
# next, one shorter than a third of it doubles it (as migration 0023's fill).
SLICE_KUDOS = 5_000
LONGEST_HOLD_S = 0.3
# A group refused (the cap, or another process at it) is not asked for again for this long.
REFUSED_S = 60

# The tallies' layout and upsert, as migration 0023 defined them and the triggers use.
_LAYOUT = import_module("bot.migrations.versions.20261206_0023_kudos_channel_tallies")

_STAGE = MetaData()
# A statement's kudos to count (sign +1) or to count out (-1), per group; then their person
# rows' changes, summed. Temporary: each connection has its own.
_CHANGES = Table(
    "usergroup_changes",
    _STAGE,
    Column("team_id", String),
    Column("channel_id", String),
    Column("created_at", UTCDateTime),
    Column("principle_id", Integer),
    Column("giver_id", String),
    Column("receiver_id", String),
    Column("sign", Integer),
)
_DELTAS = "usergroup_deltas"


def digest(members: Iterable[str]) -> str:
    """The members' fingerprint: equal for the same people in any order."""
    return hashlib.sha256("\n".join(sorted(members)).encode()).hexdigest()


def is_current(session: Session, team_id: str, group_id: str, members: frozenset[str]) -> bool:
    """Whether the group's tallies count all its kudos, for exactly these members."""
    row = session.get(TalliedUsergroup, (team_id, group_id))
    return row is not None and row.counted_since is None and row.members_digest == digest(members)


def sync(
    database: Database,
    team_id: str,
    group_id: str,
    members: frozenset[str],
    *,
    clock: Clock,
    limit: int,
    slice_kudos: int = SLICE_KUDOS,
) -> bool:
    """Bring the group's tallies to these members and fill them: True once they are
    current; False when the workspace already has `limit` tallied groups (the group is left
    to the raw kudos) or another process is syncing it."""
    if _full(database, team_id, group_id, limit):
        return False
    with _one_sync_at_a_time(database, team_id, group_id) as ours:
        if not ours:
            return False
        while True:
            with database.transaction() as session:
                _hold_writes(session)
                met = _meet(session, team_id, group_id, members, clock(), limit)
            if met is _Met.FULL:
                return False
            if met is _Met.MET:
                break
            _forget_rows(database, team_id, group_id)
        size, filled = slice_kudos, 0
        while True:
            with database.transaction() as session:
                _hold_writes(session)
                began = time.monotonic()
                if not _fill_slice(session, team_id, group_id, size):
                    break
            filled += 1
            held = time.monotonic() - began  # with the commit: the writes wait for it too
            if held > LONGEST_HOLD_S:
                size = max(size // 2, min(50, slice_kudos))
            elif held < LONGEST_HOLD_S / 3:
                size = min(size * 2, slice_kudos)
    if filled and database.dialect == "postgresql":
        # Statistics with the group's rows: before autovacuum came to them, PostgreSQL took
        # a month of the group's 24,000 person rows for one and sorted them to join the edge
        # hours' few hundred people (at ten million kudos, 44 ms against 18 with them).
        try:
            with database.engine.connect() as connection:
                connection.execute(text(f"ANALYZE {KudosChannelTally.__tablename__}"))
                connection.commit()
        except SQLAlchemyError as error:  # the tallies are current; autovacuum will come
            log.info("analysing the tallies after user group %s's fill failed: %s", group_id, error)
    return True


def _full(database: Database, team_id: str, group_id: str, limit: int) -> bool:
    """Whether the group is new and the workspace counts as many groups as it may (read
    before any lock: `_meet` decides again under the hold)."""
    with database.reading() as session:
        if session.get(TalliedUsergroup, (team_id, group_id)) is not None:
            return False
        tallied = session.scalar(select(func.count()).where(TalliedUsergroup.team_id == team_id))
    return (tallied or 0) >= limit


class _Met(enum.Enum):
    MET = "counting these members"
    FULL = "the workspace counts as many groups as it may"
    FORGOTTEN = "no longer counted: its rows are to be deleted before it starts over"


# `members_digest` of a group being forgotten (no digest is empty).
_FORGETTING = ""


# PostgreSQL's advisory lock class of one group's sync (a hash of the team and group): one
# process at a time does a group's work (the forgetting mark alone keeps a group from
# starting again before its old rows are gone, as on SQLite).
SYNC_LOCK_CLASS = 26
# A group's rows deleted per transaction when it starts over: a batch of 20,000 held SQLite's
# writes (its one write lock) about half a second at a million kudos.
_FORGET_ROWS = 2_000


@contextmanager
def _one_sync_at_a_time(database: Database, team_id: str, group_id: str) -> Iterator[bool]:
    """PostgreSQL: the group's sync lock if no other process has it (whether it was taken),
    on a connection of its own for the whole sync. SQLite: one writer at a time already,
    and each step checks what the last one left (the forgetting mark)."""
    if database.dialect != "postgresql":
        yield True
        return
    key = {"key": f"{team_id}/{group_id}"}
    with database.engine.connect() as connection:
        taken = connection.scalar(
            text(f"SELECT pg_try_advisory_lock({SYNC_LOCK_CLASS}, hashtext(:key))"), key
        )
        connection.commit()
        if not taken:
            yield False
            return
        try:
            yield True
        finally:
            connection.execute(
                text(f"SELECT pg_advisory_unlock({SYNC_LOCK_CLASS}, hashtext(:key))"), key
            )
            connection.commit()


def _forget_rows(
    database: Database, team_id: str, group_id: str, batches: int | None = None
) -> None:
    """Delete the rows of a group being forgotten, a batch per transaction, then the group:
    nothing else writes them meanwhile (it has no members for the triggers to count), and
    each batch first checks that the group is still being forgotten. `batches`: stop after
    that many (the tests' process stopped half way)."""
    t = KudosChannelTally
    key = (t.team_id, t.channel_id, t.role, t.bucket, t.principle_id, t.user_id)
    for _ in itertools.count() if batches is None else range(batches):
        with database.transaction() as session:
            group = session.get(TalliedUsergroup, (team_id, group_id), populate_existing=True)
            if group is None or group.members_digest != _FORGETTING:
                return
            batch = (
                select(*key)
                .where(t.team_id == team_id, t.channel_id == group_id)
                .limit(_FORGET_ROWS)
            )
            result = session.execute(delete(t).where(tuple_(*key).in_(batch)))
            if not getattr(result, "rowcount", 0):
                session.delete(group)
                return


def _hold_writes(session: Session) -> None:
    """Hold `kudos` writes for the transaction (reads go on), waiting at most
    `LOCK_WAIT_MS` for those under way (PostgreSQL; past it, an OperationalError); SQLite's
    transactions hold its one write lock from their start (`BEGIN IMMEDIATE`)."""
    if session.get_bind().dialect.name == "postgresql":
        # No JIT: compiling a difference's statement took 0.9 s of a 1.3 s read at ten
        # million kudos, every second of it holding the writes.
        session.execute(text("SET LOCAL jit = off"))
        with lock_wait(session, f"{LOCK_WAIT_MS}ms"):
            session.execute(text("LOCK TABLE kudos IN SHARE ROW EXCLUSIVE MODE"))


def _meet(
    session: Session,
    team_id: str,
    group_id: str,
    members: frozenset[str],
    now: dt.datetime,
    limit: int,
) -> _Met:
    """Start counting the group, or move its counts to the new members; or, for a change of
    more than `RESET_CHANGES` people or their more than `RESET_KUDOS` kudos, stop counting
    it (to start over once its rows are deleted)."""
    group = session.get(TalliedUsergroup, (team_id, group_id), populate_existing=True)
    wanted = digest(members)
    if group is not None and group.members_digest == _FORGETTING:
        return _Met.FORGOTTEN  # a process stopped while forgetting it
    if group is None:
        tallied = session.scalar(select(func.count()).where(TalliedUsergroup.team_id == team_id))
        if (tallied or 0) >= limit:
            log.info("not tallying user group %s: %d groups already are", group_id, tallied)
            return _Met.FULL
        group = TalliedUsergroup(
            team_id=team_id,
            group_id=group_id,
            members_digest=wanted,
            counted_since=now,
        )
        session.add(group)
        _start(session, group, members, now)
        return _Met.MET
    if group.members_digest == wanted:
        return _Met.MET
    counted = set(
        session.scalars(
            select(TalliedUsergroupMember.user_id).where(
                TalliedUsergroupMember.team_id == team_id,
                TalliedUsergroupMember.group_id == group_id,
            )
        )
    )
    joined, left = members - counted, frozenset(counted - members)
    if len(joined) + len(left) > RESET_CHANGES or _too_many_kudos(session, group, joined | left):
        session.execute(
            delete(TalliedUsergroupMember).where(
                TalliedUsergroupMember.team_id == team_id,
                TalliedUsergroupMember.group_id == group_id,
            )
        )
        group.members_digest = _FORGETTING
        return _Met.FORGOTTEN
    _count(session, _membership_changes(group, joined, left), analyse=True)
    if left:
        session.execute(
            delete(TalliedUsergroupMember).where(
                TalliedUsergroupMember.team_id == team_id,
                TalliedUsergroupMember.group_id == group_id,
                TalliedUsergroupMember.user_id.in_(sorted(left)),
            )
        )
    _add_members(session, team_id, group_id, joined)
    group.members_digest = wanted
    return _Met.MET


def _too_many_kudos(session: Session, group: TalliedUsergroup, people: frozenset[str]) -> bool:
    """Whether `people` may have more than `RESET_KUDOS` kudos the difference would read:
    an upper bound (withdrawn ones and a kudos between two of them counted too), each side
    counted through its covering index, stopping past the bound."""
    total = 0
    for column in (Kudos.giver_id, Kudos.receiver_id):
        conditions = [Kudos.team_id == group.team_id, column.in_(sorted(people))]
        if group.counted_since is not None:
            conditions.append(Kudos.created_at >= group.counted_since)
        some = select(literal(1)).where(*conditions).limit(RESET_KUDOS + 1).subquery()
        total += session.scalar(select(func.count()).select_from(some)) or 0
    return total > RESET_KUDOS


def _start(
    session: Session, group: TalliedUsergroup, members: Iterable[str], now: dt.datetime
) -> None:
    """The group's members, and its kudos created from `now` on: the triggers count those
    written after this transaction, these the ones already there (a clock ahead)."""
    session.flush()
    _add_members(session, group.team_id, group.group_id, members)
    _count(session, _kudos_of(group, Kudos.created_at >= now))


def _add_members(session: Session, team_id: str, group_id: str, members: Iterable[str]) -> None:
    rows = [{"team_id": team_id, "group_id": group_id, "user_id": m} for m in sorted(members)]
    for first in range(0, len(rows), 1000):
        session.execute(insert(TalliedUsergroupMember), rows[first : first + 1000])


def _fill_slice(session: Session, team_id: str, group_id: str, size: int) -> bool:
    """Count the group's kudos of the `size` workspace kudos before its `counted_since` and
    hand those to the triggers; False when nothing is left to fill."""
    group = session.get(TalliedUsergroup, (team_id, group_id), populate_existing=True)
    if group is None or group.counted_since is None:
        return False
    since = group.counted_since
    first = session.scalar(
        select(Kudos.created_at)
        .where(Kudos.team_id == team_id, Kudos.created_at < since)
        .order_by(Kudos.created_at.desc())
        .offset(size - 1)
        .limit(1)
    )
    older = [Kudos.created_at < since]
    if first is not None:
        older.append(Kudos.created_at >= first)
    _count(session, _kudos_of(group, *older))
    group.counted_since = first
    return True


def _member(group: TalliedUsergroup, column: Any) -> ColumnElement[bool]:
    """`column` is one of the group's counted members (as the triggers read them)."""
    return channels.group_member(group.team_id, group.group_id, column)


def _changes(group: TalliedUsergroup, sign: Any, *conditions: ColumnElement[bool]) -> object:
    """The team's standing kudos that `conditions` pick, as rows of `usergroup_changes` for
    the group, each counted `sign` times."""
    return select(
        Kudos.team_id,
        literal(group.group_id, String),
        Kudos.created_at,
        Kudos.principle_id,
        Kudos.giver_id,
        Kudos.receiver_id,
        sign,
    ).where(Kudos.team_id == group.team_id, Kudos.withdrawn_at.is_(None), *conditions)


def _kudos_of(group: TalliedUsergroup, *when: ColumnElement[bool]) -> object:
    """The group's standing kudos created `when`, each counted in once."""
    involved = or_(_member(group, Kudos.giver_id), _member(group, Kudos.receiver_id))
    return _changes(group, literal(1, Integer), *when, involved)


def _membership_changes(
    group: TalliedUsergroup, joined: frozenset[str], left: frozenset[str]
) -> object:
    """The standing kudos whose count moves when `joined` join and `left` leave: +1 for
    those that involve a member only now, -1 for those that did only before (read before the
    members change). Only kudos the group counts already (the fill counts the older ones with
    the members of its time)."""
    changed = sorted(joined | left)

    def after(column: Any) -> ColumnElement[bool]:
        return or_(_member(group, column) & column.not_in(sorted(left)), column.in_(sorted(joined)))

    involved_after = case((or_(after(Kudos.giver_id), after(Kudos.receiver_id)), 1), else_=0)
    involved_before = case(
        (or_(_member(group, Kudos.giver_id), _member(group, Kudos.receiver_id)), 1), else_=0
    )
    conditions = [or_(Kudos.giver_id.in_(changed), Kudos.receiver_id.in_(changed))]
    if group.counted_since is not None:
        conditions.append(Kudos.created_at >= group.counted_since)
    return _changes(group, involved_after - involved_before, *conditions)


def _count(session: Session, changes: object, *, analyse: bool = False) -> None:
    """Count `changes` (a select of the `usergroup_changes` columns) into the tallies, as the
    triggers count a statement's kudos: the day rows; the people counts of the person rows
    that go from 0 or to 0 (read before they change); the person rows."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    dialect = "postgresql" if postgresql else "sqlite"
    for ddl in _stage_tables(postgresql):
        session.execute(text(ddl))
    session.execute(text(f"DELETE FROM {_CHANGES.name}"))
    session.execute(text(f"DELETE FROM {_DELTAS}"))
    session.execute(insert(_CHANGES).from_select([c.name for c in _CHANGES.columns], changes))  # type: ignore[arg-type]
    table, columns, conflict = _LAYOUT.TABLE, _LAYOUT._COLUMNS, _LAYOUT._CONFLICT
    day, month = _LAYOUT._day(dialect, "created_at"), _LAYOUT._month(dialect, "created_at")
    key = "team_id, channel_id, role, bucket, principle_id, user_id"
    people = _LAYOUT.person_changes(_CHANGES.name, month)
    joined = " AND ".join(f"t.{c} = d.{c}" for c in key.split(", "))
    crossed = (
        "CASE WHEN coalesce(t.kudos, 0) = 0 AND d.n > 0 THEN 1 "
        "WHEN t.kudos > 0 AND t.kudos + d.n = 0 THEN -1 ELSE 0 END"
    )
    for statement in (
        f"INSERT INTO {_DELTAS} ({key}, n) SELECT {key}, sum(sign) FROM ({people}) AS p "
        f"WHERE true GROUP BY {key} HAVING sum(sign) <> 0",
        f"INSERT INTO {table} ({columns}) SELECT team_id, channel_id, 'p', {day}, principle_id, "
        f"'', sum(sign) FROM {_CHANGES.name} WHERE true "
        f"GROUP BY team_id, channel_id, {day}, principle_id HAVING sum(sign) <> 0 {conflict}",
        f"INSERT INTO {table} ({columns}) SELECT d.team_id, d.channel_id, upper(d.role), "
        f"d.bucket, d.principle_id, '', sum({crossed}) FROM {_DELTAS} d LEFT JOIN {table} t "
        f"ON {joined} WHERE true GROUP BY d.team_id, d.channel_id, d.role, d.bucket, "
        f"d.principle_id HAVING sum({crossed}) <> 0 {conflict}",
        f"INSERT INTO {table} ({columns}) SELECT {key}, n FROM {_DELTAS} WHERE true {conflict}",
    ):
        session.execute(text(statement))
        if analyse and postgresql and statement.startswith(f"INSERT INTO {_DELTAS}"):
            # Statistics for the staged rows: without them PostgreSQL guessed and joined the
            # group's millions of rows at ten million kudos (0.8 s for a few thousand kudos).
            session.execute(text(f"ANALYZE {_CHANGES.name}, {_DELTAS}"))


def _stage_tables(postgresql: bool) -> tuple[str, str]:
    if postgresql:
        return (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_CHANGES.name} (team_id text, "
            "channel_id text, created_at timestamptz, principle_id integer, giver_id text, "
            "receiver_id text, sign integer) ON COMMIT DELETE ROWS",
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_DELTAS} (team_id text, channel_id text, "
            "role text, bucket date, principle_id integer, user_id text, n integer) "
            "ON COMMIT DELETE ROWS",
        )
    return (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_CHANGES.name} (team_id, channel_id, "
        "created_at, principle_id, giver_id, receiver_id, sign)",
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_DELTAS} (team_id, channel_id, role, bucket, "
        "principle_id, user_id, n)",
    )


class GroupTallies:
    """Answers whether a group's tallies are current, and brings them up to date in the
    background when not, one group at a time per process (a daemon thread: a fill stopped
    with the process resumes from its `counted_since` the next time the group is read)."""

    def __init__(self, database: Database, clock: Clock, limit: int) -> None:
        """`limit`: how many groups a workspace may have tallied (MISSIONBOT_TALLIED_GROUPS)."""
        self._database = database
        self._clock = clock
        self._limit = limit
        self._lock = threading.Lock()
        self._pending: set[tuple[str, str]] = set()
        self._queue: list[tuple[str, str, frozenset[str]]] = []
        self._worker: threading.Thread | None = None
        # Groups refused for the cap, and when: not asked again for `REFUSED_S`.
        self._refused: dict[tuple[str, str], float] = {}

    def current(self, team_id: str, group_id: str, members: frozenset[str]) -> bool:
        """Whether the group's pages may read its tallies; if not, they are brought up to
        date meanwhile."""
        if not self._limit:
            return False
        try:
            with self._database.reading() as session:
                if is_current(session, team_id, group_id, members):
                    return True
        except SQLAlchemyError as error:
            log.info("reading user group %s's tallies' state failed: %s", group_id, error)
            return False
        self._schedule(team_id, group_id, members)
        return False

    def idle(self) -> bool:
        """Whether no work is asked for or under way (the tests wait for it)."""
        with self._lock:
            return not self._pending

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the work asked for so far; whether it is done."""
        until = time.monotonic() + timeout
        while not self.idle() and time.monotonic() < until:
            time.sleep(0.02)
        return self.idle()

    def _schedule(self, team_id: str, group_id: str, members: frozenset[str]) -> None:
        with self._lock:
            if (team_id, group_id) in self._pending:
                return
            refused = self._refused.get((team_id, group_id))
            if refused is not None and time.monotonic() - refused < REFUSED_S:
                return
            self._pending.add((team_id, group_id))
            self._queue.append((team_id, group_id, members))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._work, name="usergroup-tallies", daemon=True
                )
                self._worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._worker = None
                    return
                team_id, group_id, members = self._queue.pop(0)
            try:
                began = time.monotonic()
                if sync(
                    self._database, team_id, group_id, members, clock=self._clock, limit=self._limit
                ):
                    log.info(
                        "user group %s's tallies current in %.1f s",
                        group_id,
                        time.monotonic() - began,
                    )
                else:
                    with self._lock:
                        self._refused[team_id, group_id] = time.monotonic()
            except SQLAlchemyError as error:
                # The pages go on reading the raw kudos; the next view asks again.
                log.warning(
                    "bringing user group %s's tallies up to date stopped: %s", group_id, error
                )
            except Exception:
                log.exception("bringing user group %s's tallies up to date failed", group_id)
            finally:
                with self._lock:
                    self._pending.discard((team_id, group_id))
