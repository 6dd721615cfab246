"""Events API deliveries handled once: Slack redelivers an event it thinks we missed.

Slack retries an event (same `event_id`, `X-Slack-Retry-Num` set) when our answer was slow or
lost. The first delivery claims its `event_id` in `processed_events` with one
`INSERT … ON CONFLICT DO NOTHING`; a redelivery finds the claim and is dropped, whichever
process of the bot it reaches. Claims older than a day are pruned: Slack retries for minutes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import ProcessedEvent

KEEP_FOR = dt.timedelta(days=1)


def claim_event(*, session: Session, team_id: str, event_id: str, now: dt.datetime) -> bool:
    """True for the first delivery of `event_id`, False for any redelivery."""
    insert = dialect_insert(session)
    statement = (
        insert(ProcessedEvent)
        .values(event_id=event_id, team_id=team_id, received_at=now)
        .on_conflict_do_nothing(index_elements=[ProcessedEvent.event_id])
        .returning(ProcessedEvent.event_id)
    )
    return session.scalar(statement) is not None


def prune_events(*, session: Session, now: dt.datetime) -> int:
    """Forget deliveries older than a day; how many were forgotten."""
    result = session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.received_at < now - KEEP_FOR)
    )
    return int(getattr(result, "rowcount", 0) or 0)
