"""People counts of periods that have ended, and a report's whole result of one (promise
health's people per principle), kept once counted (migration 0027).

A report asks for a count through `settled`: the count kept for the period if the team's
generation is still the one it was counted at, else the caller's own count, both in the
caller's statement (one snapshot with the generation it reads). After the statement,
`keep` stores what was counted for a period that ended over an hour ago (by the database's
clock), tagged with the generation read beside it: a write the triggers count as touching an
ended period moves the generation on, so a count read before that write committed is never
read back, whenever it is stored. A whole result is asked for through `report` (the
generation read before it is counted, so what is stored with it is at least as new) and
stored by `keep_report`.

A count is stored in the caller's transaction when it writes (the App Home's), under a
savepoint; on PostgreSQL it waits at most 0.2 s for the same count stored by another Home
whose transaction is still open. A read-only report's (the digest's) is stored on
PostgreSQL on a connection of its own outside the bot's pool; on SQLite not at all (it
would wait for the write lock). A count that can't be stored is counted again next time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.engine import READ_ONLY, create_database_engine, lock_wait
from bot.db.models import (
    SettledCountGeneration,
    SettledPeopleCount,
    SettledReport,
    UTCDateTime,
)

log = logging.getLogger(__name__)

_LOCK_WAIT = "200ms"
# A count is stored once its period ended an hour before the database's clock: longer than
# the triggers' 30 minutes, so a write they let by (a kudos under 30 minutes old, in a
# transaction begun under 30 minutes ago) can't be in the period.
_SETTLED_BEFORE = {
    "postgresql": "now() - interval '1 hour'",
    "sqlite": "strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour')",
}

Bounds = tuple[dt.datetime | None, dt.datetime | None]


@dataclass(frozen=True, slots=True)
class Settled:
    """One count asked for in a statement: its key, and the statement's columns for it."""

    team_id: str
    role: str
    principle_id: int
    start: dt.datetime
    end: dt.datetime
    value: ColumnElement[int]  # the kept count, else the caller's
    kept: ColumnElement[bool]  # whether a kept count was read
    generation: ColumnElement[int | None]  # the team's generation (None: no row yet)

    @property
    def columns(self) -> tuple[ColumnElement[bool], ColumnElement[int | None]]:
        """What `keep` needs besides the value (select the value once: it may count)."""
        return (self.kept, self.generation)


def has_ended(bounds: Bounds, now: dt.datetime) -> bool:
    """Whether a count of `bounds` may be kept: a period with both ends, ended at `now`. It
    is stored only if it ended over an hour before the database's clock (`keep`)."""
    return bounds[0] is not None and bounds[1] is not None and bounds[1] <= now


def settled(
    team_id: str, role: str, bounds: Bounds, principle_id: int, count: ColumnElement[int]
) -> Settled:
    """The count of people of `role` in `bounds` (ended: `has_ended`): the one kept at the
    team's current generation, else `count`, evaluated only then."""
    start, end = bounds
    assert start is not None
    assert end is not None
    generation = _generation(team_id).scalar_subquery()
    kept = (
        select(SettledPeopleCount.people)
        .where(
            SettledPeopleCount.team_id == team_id,
            SettledPeopleCount.role == role,
            SettledPeopleCount.principle_id == principle_id,
            SettledPeopleCount.start_at == start,
            SettledPeopleCount.end_at == end,
            SettledPeopleCount.generation == generation,
        )
        .scalar_subquery()
    )
    return Settled(
        team_id,
        role,
        principle_id,
        start,
        end,
        func.coalesce(kept, count),
        kept.is_not(None),
        generation,
    )


def _generation(team_id: str) -> Select[int]:
    """The team's generation (no row: None)."""
    return select(SettledCountGeneration.generation).where(
        SettledCountGeneration.team_id == team_id
    )


class Report(StrEnum):
    """Reports whose whole result of an ended period is kept (`settled_reports`)."""

    # Promise health's people per principle (bot/reports/health.py): a week's raw-edged
    # person tallies, ~80 ms at ten million kudos for the same answer all week.
    # Versioned: a body of another shape is never read back.
    HEALTH_PEOPLE = "health-people-v1"


@dataclass(frozen=True, slots=True)
class Kept:
    """What `report` read: the team's generation (None: no row yet) and the body kept at it."""

    generation: int | None
    body: Any


Found = tuple[Settled, int, bool, int | None]  # asked, its value, its `columns` as read


def keep(session: Session, found: Sequence[Found]) -> None:
    """Store the counts of `found` that were counted, not read back. Never fails the
    caller: a count not stored is counted again next time."""
    rows: list[dict[str, object]] = []
    teams: set[str] = set()
    for one, value, was_kept, generation in found:
        if was_kept:
            continue
        if generation is None:
            # No generation yet: a write before the row exists moves nothing, so a count is
            # kept only once the row was there when it was counted (next time).
            teams.add(one.team_id)
            continue
        rows.append(
            {
                "team_id": one.team_id,
                "role": one.role,
                "principle_id": one.principle_id,
                "start_at": one.start,
                "end_at": one.end,
                "generation": generation,
                "people": value,
            }
        )
    if rows or teams:
        _persist(session, lambda to: _insert(to, rows, teams))


def report(session: Session, team_id: str, name: Report, period: Bounds) -> Kept:
    """A report's result kept for an ended `period` at the team's current generation (None
    if none), and that generation, read first: a result counted after it and stored with it
    is at least as new as it, so never stale where it is read back."""
    generation = session.scalar(_generation(team_id))
    body = session.scalar(
        select(SettledReport.body).where(
            SettledReport.team_id == team_id,
            SettledReport.report == name.value,
            SettledReport.period == _period_key(period),
            SettledReport.generation == generation,
        )
    )
    return Kept(generation, None if body is None else json.loads(body))


def keep_report(
    session: Session, team_id: str, name: Report, period: Bounds, kept: Kept, body: object
) -> None:
    """Store `body`, `name`'s result for `period` counted after `kept` was read (`report`),
    if its period ended an hour before the database's clock. Never fails the caller."""
    if kept.body is not None:
        return
    if kept.generation is None:
        _persist(session, lambda to: _generations(to, {team_id}))
        return
    row = {
        "team_id": team_id,
        "report": name.value,
        "period": _period_key(period),
        "generation": kept.generation,
        "body": json.dumps(body, separators=(",", ":")),
    }
    end = period[1]
    assert end is not None
    _persist(session, lambda to: _upsert(to, SettledReport, row, end, "body"))


def _period_key(period: Bounds) -> str:
    start, end = period
    assert start is not None
    assert end is not None
    return f"{start.astimezone(dt.UTC).isoformat()}/{end.astimezone(dt.UTC).isoformat()}"


def _persist(session: Session, write: Callable[[Session], None]) -> None:
    """Run `write` where the caller's transaction allows (module docstring); a failure is
    logged, not raised: what isn't stored is counted again next time."""
    dialect = session.get_bind().dialect.name
    # The caller's own pending changes fail here, as theirs, not as a count not stored.
    session.flush()
    try:
        if not session.connection().get_execution_options().get(READ_ONLY, False):
            with session.begin_nested():
                _bounded(session, write)
        elif dialect == "postgresql":
            with _writer(session).begin() as connection, Session(bind=connection) as own:
                _bounded(own, write)
    except SQLAlchemyError as exc:
        log.info("settled counts not kept: %s", type(exc).__name__)


_writers: dict[str, Engine] = {}
_writers_lock = threading.Lock()


def _writer(session: Session) -> Engine:
    """An engine of one connection at a time outside the bot's pool, for a reader's counts
    (a digest drawn in a read-only transaction): the pool holds one connection for each
    thread that may want one (bot/runtime.py), and a second taken here could leave another
    thread waiting. Opened only when a count is stored: once per period and team."""
    url = session.get_bind().engine.url
    key = url.render_as_string(hide_password=False)
    with _writers_lock:
        if key not in _writers:
            _writers[key] = create_database_engine(key, pooled=False)
        return _writers[key]


def _bounded(session: Session, write: Callable[[Session], None]) -> None:
    """On PostgreSQL, wait at most `_LOCK_WAIT` for a row another transaction writes
    (another Home storing the same count, in a transaction open while Slack answers), then
    give up."""
    if session.get_bind().dialect.name != "postgresql":
        write(session)
        return
    with lock_wait(session, _LOCK_WAIT):
        write(session)


def _insert(session: Session, rows: list[dict[str, object]], teams: set[str]) -> None:
    _generations(session, teams)
    for row in rows:
        end = row["end_at"]
        assert isinstance(end, dt.datetime)
        _upsert(session, SettledPeopleCount, row, end, "people")


def _generations(session: Session, teams: set[str]) -> None:
    """The teams' generation rows, at 0 where there is none yet."""
    if teams:
        session.execute(
            dialect_insert(session)(SettledCountGeneration)
            .values([{"team_id": team, "generation": 0} for team in sorted(teams)])
            .on_conflict_do_nothing()
        )


def _upsert(
    session: Session,
    model: type[SettledPeopleCount] | type[SettledReport],
    row: dict[str, object],
    end: dt.datetime,
    value: str,
) -> None:
    """`row` into `model` if its period `end`ed an hour before the database's clock, over
    a row of its key from an older generation (one from a newer one stays)."""
    dialect = session.get_bind().dialect.name
    columns = list(row)
    values = select(*(literal(row[c], _TYPES.get(c)) for c in columns)).where(
        literal(end, UTCDateTime()) <= text(_SETTLED_BEFORE[dialect])
    )
    statement = dialect_insert(dialect)(model).from_select(columns, values)
    key = [column.name for column in model.__mapper__.primary_key]
    session.execute(
        statement.on_conflict_do_update(
            index_elements=key,
            set_={"generation": statement.excluded.generation, value: statement.excluded[value]},
            where=model.generation < statement.excluded.generation,
        )
    )


_TYPES = {"start_at": UTCDateTime(), "end_at": UTCDateTime()}
