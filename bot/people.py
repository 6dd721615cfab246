"""The people directory: who is in the workspace, kept in the bot's own database.

Slack's `users.info` allows about 100 calls a minute; a burst of kudos from many people
exceeded it, and every request waiting on it stopped answering. So the bot keeps its own copy:
filled from `users.list` at start (bot/slack/users.py), kept current by the `user_change` and
`team_join` events, and asked of Slack (`users.info`) only for someone it doesn't know yet.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Insert, bindparam, func, select
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import Person as PersonRow
from bot.db.models import table

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
            "locale": person.locale,
            "updated_at": now,
        }
        for person in people
    ]
    if not rows:
        return 0
    session.execute(_upsert(session.get_bind().dialect.name), rows)
    return len(rows)


@functools.cache
def _upsert(dialect: str) -> Insert:
    """Insert, or update what Slack says of someone already known; built once per dialect (a
    kudos from someone new runs it, and building it cost more than running it)."""
    insert = dialect_insert(dialect)
    statement = insert(_PEOPLE)
    changed = {column: statement.excluded[column] for column in UPDATED_COLUMNS}
    changed["locale"] = func.coalesce(statement.excluded.locale, _PEOPLE.c.locale)
    return statement.on_conflict_do_update(
        index_elements=[_PEOPLE.c.team_id, _PEOPLE.c.user_id], set_=changed
    )


def find_people(*, session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, Person]:
    """The directory's entries for `user_ids` (those it has), by ID, in one query."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    rows = session.execute(_FIND, {"team_id": team_id, "user_ids": wanted})
    return {row.user_id: Person(*row) for row in rows}


_PEOPLE = table(PersonRow)
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
