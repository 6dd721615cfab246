"""The people directory: who is in the workspace, kept in the bot's own database.

Slack's `users.info` allows about 100 calls a minute; a burst of kudos from many people
exceeded it, and every request waiting on it stopped answering. So the bot keeps its own copy:
filled from `users.list` at start (bot/slack/users.py), kept current by the `user_change` and
`team_join` events, and asked of Slack (`users.info`) only for someone it doesn't know yet.

A fill of 50,000 people is 250 pages at Slack's 20 a minute, about 12 minutes, so where it
stands is stored too (`directory_fills`): the next page's cursor after every page (a restart
resumes there), and a lease naming the one process that fills (`claim_fill`), so two processes
on one database fill it once. A page is older news than an event that arrived while it was on
its way, so a page never overwrites a person described since it was asked for (`store_page`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Insert, and_, bindparam, func, literal, or_, select, update
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import DirectoryFill, WorkspaceSettings, table
from bot.db.models import Person as PersonRow

NAME_LIMIT = 200
UPDATED_COLUMNS = ("name", "timezone", "is_bot", "deleted", "is_admin", "is_owner", "updated_at")
# Slack sends a locale only when asked (`include_locale=true`): an update without one (a user
# event) keeps the locale already known.


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    timezone: str | None
    is_bot: bool
    deleted: bool
    is_admin: bool
    is_owner: bool
    locale: str | None = None  # Slack's (`de-DE`); bot/i18n/negotiate.py picks the language


def remember_people(
    *, session: Session, team_id: str, people: Iterable[Person], now: dt.datetime
) -> int:
    """Insert or update each person (one statement per batch); how many were written."""
    rows = _rows(team_id, people, now)
    if not rows:
        return 0
    session.execute(_upsert(session.get_bind().dialect.name), rows)
    return len(rows)


def _rows(team_id: str, people: Iterable[Person], now: dt.datetime) -> list[dict[str, object]]:
    return [
        {
            "team_id": team_id,
            "user_id": person.id,
            "name": person.name[:NAME_LIMIT],
            "timezone": person.timezone,
            "is_bot": person.is_bot,
            "deleted": person.deleted,
            "is_admin": person.is_admin,
            "is_owner": person.is_owner,
            "locale": person.locale,
            "updated_at": now,
        }
        for person in people
    ]


@functools.cache
def _upsert(dialect: str, *, unless_newer: bool = False) -> Insert:
    """Insert, or update what Slack says of someone already known; built once per dialect (a
    kudos from someone new runs it, and building it cost more than running it). `unless_newer`:
    leave a person described after this description was asked for (a page of the fill)."""
    insert = dialect_insert(dialect)
    statement = insert(_PEOPLE)
    changed = {column: statement.excluded[column] for column in UPDATED_COLUMNS}
    changed["locale"] = func.coalesce(statement.excluded.locale, _PEOPLE.c.locale)
    return statement.on_conflict_do_update(
        index_elements=[_PEOPLE.c.team_id, _PEOPLE.c.user_id],
        set_=changed,
        where=(_PEOPLE.c.updated_at <= statement.excluded.updated_at) if unless_newer else None,
    )


# -- the fill's progress and its lease ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FillState:
    """Where a workspace's fill stands, as the process holding its lease sees it."""

    key: str
    cursor: str | None
    pages: int
    people: int
    finished_at: dt.datetime | None
    started_at: dt.datetime


def claim_fill(
    *, session: Session, key: str, owner: str, lease: dt.timedelta, now: dt.datetime
) -> FillState | None:
    """Take (or renew) the lease on `key`'s fill for `owner`; None while another holds it.

    One conditional UPDATE, so of two processes asking at once exactly one gets it, on either
    database; the row is created first if there is none (a race there inserts it once).
    """
    insert = dialect_insert(session)(_FILLS).values(
        team_id=key, cursor=None, pages=0, people=0, started_at=now
    )
    session.execute(insert.on_conflict_do_nothing(index_elements=[_FILLS.c.team_id]))
    taken = session.execute(
        update(_FILLS)
        .where(
            _FILLS.c.team_id == key,
            or_(
                _FILLS.c.lease_owner.is_(None),
                _FILLS.c.lease_owner == owner,
                _FILLS.c.lease_until.is_(None),
                _FILLS.c.lease_until < now,
            ),
        )
        .values(lease_owner=owner, lease_until=now + lease)
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        return None
    row = session.execute(select(_FILLS).where(_FILLS.c.team_id == key)).one()
    return FillState(
        key=key,
        cursor=row.cursor,
        pages=row.pages,
        people=row.people,
        finished_at=row.finished_at,
        started_at=row.started_at,
    )


def restart_fill(*, session: Session, key: str, owner: str, now: dt.datetime) -> bool:
    """Start the fill again from page one (a new round, or a cursor Slack no longer accepts);
    False when `owner` no longer holds the lease."""
    return _held_update(
        session, key, owner, cursor=None, pages=0, people=0, started_at=now, finished_at=None
    )


def store_page(
    *,
    session: Session,
    key: str,
    team_id: str,
    owner: str,
    people: Sequence[Person],
    next_cursor: str | None,
    asked_at: dt.datetime,
    lease: dt.timedelta,
    now: dt.datetime,
) -> bool:
    """One page of `users.list` into the directory, and the cursor of the next (None: that was
    the last, the fill is finished) with the lease renewed; False, and nothing written, when
    `owner` no longer holds the lease. People described since `asked_at` keep that description.
    """
    values: dict[str, object] = {
        "cursor": next_cursor,
        "pages": _FILLS.c.pages + 1,
        "people": _FILLS.c.people + len(people),
        "lease_until": now + lease,
    }
    if next_cursor is None:
        values.update(finished_at=now, lease_owner=None, lease_until=None)
    if not _held_update(session, key, owner, **values):
        return False
    if people:
        session.execute(
            _upsert(session.get_bind().dialect.name, unless_newer=True),
            _rows(team_id, people, asked_at),
        )
    return True


def release_fill(*, session: Session, key: str, owner: str) -> None:
    """Give the lease up (a page failed): another process, or this one later, resumes."""
    _held_update(session, key, owner, lease_owner=None, lease_until=None)


def _held_update(session: Session, key: str, owner: str, **values: object) -> bool:
    done = session.execute(
        update(_FILLS)
        .where(_FILLS.c.team_id == key, _FILLS.c.lease_owner == owner)
        .values(**values)
    ).rowcount  # type: ignore[attr-defined]
    return bool(done)


def find_people(*, session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, Person]:
    """The directory's entries for `user_ids` (those it has), by ID, in one query."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    rows = session.execute(_FIND, {"team_id": team_id, "user_ids": wanted})
    return {row.user_id: Person(*row) for row in rows}


def find_reader(
    *, session: Session, team_id: str, user_id: str
) -> tuple[Person | None, str | None]:
    """The directory's entry for one person (None if it has none) and the language the
    workspace chose (`workspace_settings.language`, None if it chose none), in one statement:
    a dashboard request reads both, and the language shouldn't cost a round trip of its own."""
    row = session.execute(_READER, {"team_id": team_id, "user_id": user_id}).one()
    person = Person(*row[1:]) if row.user_id is not None else None
    return person, row.chosen


def usual_timezone(*, session: Session, team_id: str) -> str | None:
    """The timezone most of the workspace's active people have (None when it knows nobody):
    Slack's API names no workspace timezone, so this stands in for it."""
    count = func.count()
    return session.scalar(
        select(_PEOPLE.c.timezone)
        .where(
            _PEOPLE.c.team_id == team_id,
            _PEOPLE.c.timezone.is_not(None),
            _PEOPLE.c.is_bot.is_(False),
            _PEOPLE.c.deleted.is_(False),
        )
        .group_by(_PEOPLE.c.timezone)
        .order_by(count.desc(), _PEOPLE.c.timezone)
        .limit(1)
    )


_PEOPLE = table(PersonRow)
_FILLS = table(DirectoryFill)
# Built once, on the table (see bot.db.models.table): every kudos from someone new reads it.
_FIND = select(
    _PEOPLE.c.user_id,
    _PEOPLE.c.name,
    _PEOPLE.c.timezone,
    _PEOPLE.c.is_bot,
    _PEOPLE.c.deleted,
    _PEOPLE.c.is_admin,
    _PEOPLE.c.is_owner,
    _PEOPLE.c.locale,
).where(
    _PEOPLE.c.team_id == bindparam("team_id"),
    _PEOPLE.c.user_id.in_(bindparam("user_ids", expanding=True)),
)
# One row whether or not the directory holds the person: their columns (NULL if not) beside
# the workspace's chosen language, a LEFT JOIN from a one-row select.
_ONE_ROW = select(literal(1).label("one")).subquery()
_CHOSEN = (
    select(table(WorkspaceSettings).c.language)
    .where(table(WorkspaceSettings).c.team_id == bindparam("team_id"))
    .scalar_subquery()
)
_READER = (
    select(_CHOSEN.label("chosen"), *_FIND.selected_columns)
    .select_from(_ONE_ROW)
    .outerjoin(
        _PEOPLE,
        and_(_PEOPLE.c.team_id == bindparam("team_id"), _PEOPLE.c.user_id == bindparam("user_id")),
    )
)
