"""Kudos steps that come after the kudos is committed: remembering where it was announced.

Separate from the service because it runs after Slack has posted the message, in its own
transaction, and must not fail the delivery: the kudos itself is already safe.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from bot.db.engine import Database
from bot.kudos.service import record_public_message

log = logging.getLogger(__name__)


def remember_announcement(
    database: Database, *, team_id: str, group_id: str, channel_id: str, message_ts: str | None
) -> None:
    """Where the kudos was announced, so that undo can edit the message; logged if it can't."""
    try:
        with database.transaction() as session:
            record_public_message(
                session=session,
                team_id=team_id,
                group_id=group_id,
                channel_id=channel_id,
                message_ts=message_ts,
            )
    except SQLAlchemyError as error:
        # The kudos itself is safe; only a later undo can't edit the message.
        log.warning("could not record public message group=%s: %s", group_id, error)
