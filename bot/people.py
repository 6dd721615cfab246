"""The people directory: who is in the workspace, kept in the bot's own database.

Slack's `users.info` allows about 100 calls a minute; a burst of kudos from many people
exceeded it, and every request waiting on it stopped answering. So the bot keeps its own copy:
filled from `users.list` at start (bot/slack/users.py), kept current by the `user_change` and
`team_join` events, and asked of Slack (`users.info`) only for someone it doesn't know yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db.models import Person as PersonRow

NAME_LIMIT = 200
UPDATED_COLUMNS = ("name", "timezone", "is_bot", "deleted", "is_admin", "is_owner", "updated_at")


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    timezone: str | None
    is_bot: bool
    deleted: bool
    is_admin: bool
    is_owner: bool


def remember_people(
    *, session: Session, team_id: str, people: Iterable[Person], now: dt.datetime
) -> int:
    """Insert or update each person (one statement per batch); how many were written."""
    rows = [
        {
            "team_id": team_id,
            "user_id": person.id,
            "name": person.name[:NAME_LIMIT],
            "timezone": person.timezone,
            "is_bot": person.is_bot,
            "deleted": person.deleted,
            "is_admin": person.is_admin,
            "is_owner": person.is_owner,
            "updated_at": now,
        }
        for person in people
    ]
    if not rows:
        return 0
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(PersonRow)
    changed = {column: statement.excluded[column] for column in UPDATED_COLUMNS}
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[PersonRow.team_id, PersonRow.user_id], set_=changed
        ),
        rows,
    )
    return len(rows)


def find_person(*, session: Session, team_id: str, user_id: str) -> Person | None:
    row = session.get(PersonRow, (team_id, user_id))
    if row is None:
        return None
    return Person(
        id=row.user_id,
        name=row.name,
        timezone=row.timezone,
        is_bot=row.is_bot,
        deleted=row.deleted,
        is_admin=row.is_admin,
        is_owner=row.is_owner,
    )


def find_people(*, session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, Person]:
    """The directory's entries for these people (one query); unknown ones are left out."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(PersonRow).where(PersonRow.team_id == team_id, PersonRow.user_id.in_(wanted))
    )
    return {
        row.user_id: Person(
            id=row.user_id,
            name=row.name,
            timezone=row.timezone,
            is_bot=row.is_bot,
            deleted=row.deleted,
            is_admin=row.is_admin,
            is_owner=row.is_owner,
        )
        for row in rows
    }
