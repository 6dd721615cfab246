"""Which ways of giving kudos in the conversation a workspace has on, and its trigger word.

The environment gives the defaults (`KUDOS_REACTIONS`, `KUDOS_MESSAGES`,
`KUDOS_TRIGGER_WORD`); a workspace's managers change them for their workspace with
`/kudos settings`, stored in `workspace_settings` (a NULL column follows the default).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import WorkspaceSettings
from bot.errors import UserError
from bot.i18n.speech import N_

TRIGGER_WORD = re.compile(r"^[^\s<>&*_~`]{1,32}$")
TRIGGER_WORD_REFUSED = N_(
    "The trigger word must be one word of at most 32 characters, without formatting "
    "characters, like `kudos` or `props`. Nothing was changed."
)


@dataclass(frozen=True, slots=True)
class Ways:
    reactions: bool
    messages: bool
    trigger_word: str


def ways_of(*, session: Session, team_id: str, defaults: Ways) -> Ways:
    row = session.get(WorkspaceSettings, team_id)
    if row is None:
        return defaults
    return Ways(
        reactions=defaults.reactions if row.reactions is None else row.reactions,
        messages=defaults.messages if row.messages is None else row.messages,
        trigger_word=row.trigger_word or defaults.trigger_word,
    )


def change_ways(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    now: dt.datetime,
    reactions: bool | None = None,
    messages: bool | None = None,
    trigger_word: str | None = None,
) -> None:
    """Set what is given (None leaves a setting as it is)."""
    if trigger_word is not None and not TRIGGER_WORD.match(trigger_word):
        raise UserError(TRIGGER_WORD_REFUSED)
    values: dict[str, object] = {"updated_by": user_id, "updated_at": now}
    if reactions is not None:
        values["reactions"] = reactions
    if messages is not None:
        values["messages"] = messages
    if trigger_word is not None:
        values["trigger_word"] = trigger_word.lower()
    insert = dialect_insert(session)
    statement = insert(WorkspaceSettings).values(team_id=team_id, **values)
    session.execute(
        statement.on_conflict_do_update(index_elements=[WorkspaceSettings.team_id], set_=values)
    )
