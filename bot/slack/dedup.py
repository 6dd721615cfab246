"""A global middleware that lets each Events API delivery through once (see bot/events.py).

An undoing (`reaction_removed`, a `message_deleted`) is not claimed here: it does its one
write before the ack (bot/slack/listeners/reactions.py, messages.py), and claims its delivery
in that same transaction (`EventClaim`, in the context under `EVENT_CLAIM`). Claimed here, in
a transaction of its own, a delivery whose write then failed (a full pool, a locked SQLite)
was acknowledged and lost: Slack's retry found the claim and was dropped, and the kudos the
person had taken back stayed. Now a failed undoing answers 503, nothing is claimed, and
Slack's retry does it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.blocks.ids import Event, MessageSubtype
from bot.db.engine import Database
from bot.db.models import Clock
from bot.events import claim_event, prune_events
from bot.kudos.ordering import prune_marks

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0
# The context key of an undoing's `EventClaim`, taken in the undoing's own write.
EVENT_CLAIM = "missionbot_event_claim"


@dataclass(frozen=True, slots=True)
class EventClaim:
    """One delivery's claim, to take inside the transaction of the write it does."""

    team_id: str
    event_id: str
    retry: str = "-"

    def take(self, session: Session, now: dt.datetime) -> bool:
        """True for the first delivery; False (and a log line) for a redelivery."""
        first = claim_event(session=session, team_id=self.team_id, event_id=self.event_id, now=now)
        if not first:
            log.info(
                "event %s already handled; dropped redelivery retry=%s", self.event_id, self.retry
            )
        return first


def is_undoing(body: dict[str, Any]) -> bool:
    """A reaction removed or a message deleted: handled in one write before the ack."""
    event = body.get("event") or {}
    kind = event.get("type")
    return kind == Event.REACTION_REMOVED or (
        kind == Event.MESSAGE and event.get("subtype") == MessageSubtype.DELETED
    )


class EventDeduplicator:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock
        self._next_prune = 0.0
        self._lock = threading.Lock()

    def handle(
        self, body: dict[str, Any], request: BoltRequest, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        event_id = body.get("event_id")
        if body.get("type") != "event_callback" or not event_id:
            return next()
        now = self.clock()
        retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
        claim = EventClaim(team_id=str(body.get("team_id", "")), event_id=event_id, retry=retry)
        if is_undoing(body):
            request.context[EVENT_CLAIM] = claim
        else:
            with self.database.transaction() as session:
                first = claim.take(session, now)
            if not first:
                return BoltResponse(status=200, body="")
        self._prune(now)
        return next()

    def _prune(self, now: dt.datetime) -> None:
        with self._lock:
            if time.monotonic() < self._next_prune:
                return
            self._next_prune = time.monotonic() + PRUNE_EVERY_S
        with self.database.transaction() as session:
            pruned = prune_events(session=session, now=now)
            marks = prune_marks(session=session, now=now)
        if pruned or marks:
            log.info("forgot %d handled event(s) and %d mark(s) older than a day", pruned, marks)


def register(app: App, database: Database, clock: Clock) -> None:
    deduplicator = EventDeduplicator(database, clock)

    # A plain function: Bolt injects arguments by the names it finds in the signature.
    @app.middleware
    def handle_each_event_once(
        body: dict[str, Any], request: BoltRequest, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        return deduplicator.handle(body, request, next)


def undo_once(
    undo: Callable[[EventClaim | None], bool],
    context: dict[str, Any],
    next: Callable[[], BoltResponse],
) -> BoltResponse:
    """Run an undoing's write before the ack (`undo` takes the claim in its transaction and
    says False for a redelivery). Its failure answers 503 with nothing claimed, so that Slack
    delivers it again rather than it being acknowledged and lost."""
    try:
        first = undo(context.get(EVENT_CLAIM))
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        log.warning(
            "undoing not recorded (%s: %s); answered 503 so that Slack retries it",
            type(cause).__name__,
            str(cause).strip().splitlines()[0][:120] if str(cause).strip() else "",
        )
        return BoltResponse(status=503, body="")
    return next() if first else BoltResponse(status=200, body="")
