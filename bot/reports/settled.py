"""People counts of periods that have ended, kept once counted (migration 0027).

A report asks for a count through `settled`: the count kept for the period if the team's
generation is still the one it was counted at, else the caller's own count, both in the
caller's statement (one snapshot with the generation it reads). After the statement,
`keep` stores what was counted for a period that ended over an hour ago (by the database's
clock), tagged with the generation read beside it: a write the triggers count as touching an
ended period moves the generation on, so a count read before that write committed is never
read back, whenever it is stored.

On PostgreSQL the count is stored on a connection of its own in a short transaction that
waits for no lock over 0.2 s: the caller's transaction may be a read-only report's, or the
App Home's, which stays open while Slack answers. On SQLite only in the caller's transaction
when it already writes (it holds the one write lock); a reader stores nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.db.engine import READ_ONLY
from bot.db.models import SettledCountGeneration, SettledPeopleCount, UTCDateTime

log = logging.getLogger(__name__)

# A period is kept once it ended this long before: longer than the triggers' 30 minutes
# (a write in a transaction begun before the period ended can't be let by unseen).
SETTLED_AFTER = dt.timedelta(hours=1)
_LOCK_WAIT = "200ms"
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
    """Whether a count of `bounds` may be kept: a period with both ends, over an hour ago."""
    return bounds[0] is not None and bounds[1] is not None and bounds[1] <= now - SETTLED_AFTER


def settled(
    team_id: str, role: str, bounds: Bounds, principle_id: int, count: ColumnElement[int]
) -> Settled:
    """The count of people of `role` in `bounds` (ended: `has_ended`): the one kept at the
    team's current generation, else `count`, evaluated only then."""
    start, end = bounds
    assert start is not None
    assert end is not None
    generation = (
        select(SettledCountGeneration.generation)
        .where(SettledCountGeneration.team_id == team_id)
        .scalar_subquery()
    )
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


Found = tuple[Settled, int, bool, int | None]  # asked, its value, its `columns` as read


def keep(session: Session, found: Sequence[Found]) -> None:
    """Store the counts of `found` that were counted, not read back. Never fails the
    caller: a count not stored is counted again next time."""
    dialect = session.get_bind().dialect.name
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
    if not rows and not teams:
        return
    try:
        if dialect == "postgresql":
            # The caller's engine may be the readers' (read-only, repeatable read).
            writer = session.get_bind().engine.execution_options(
                isolation_level="READ COMMITTED", postgresql_readonly=False
            )
            with writer.begin() as connection:
                connection.execute(text(f"SET LOCAL lock_timeout = '{_LOCK_WAIT}'"))
                _store(connection, dialect, rows, teams)
        elif not session.connection().get_execution_options().get(READ_ONLY, False):
            with session.begin_nested():
                _store(session, dialect, rows, teams)
    except DBAPIError as exc:
        log.info("settled counts not kept: %s", type(exc.orig).__name__)


def _store(
    session: Session | Connection, dialect: str, rows: list[dict[str, object]], teams: set[str]
) -> None:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    if teams:
        session.execute(
            insert(SettledCountGeneration)
            .values([{"team_id": team, "generation": 0} for team in sorted(teams)])
            .on_conflict_do_nothing()
        )
    clock = text(_SETTLED_BEFORE[dialect])
    for row in rows:
        columns = list(row)
        values = select(*(literal(row[c], _TYPES.get(c)) for c in columns)).where(
            literal(row["end_at"], UTCDateTime()) <= clock
        )
        statement = insert(SettledPeopleCount).from_select(columns, values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["team_id", "role", "principle_id", "start_at", "end_at"],
                set_={
                    "generation": statement.excluded.generation,
                    "people": statement.excluded.people,
                },
                where=SettledPeopleCount.generation < statement.excluded.generation,
            )
        )


_TYPES = {"start_at": UTCDateTime(), "end_at": UTCDateTime()}
