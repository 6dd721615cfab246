"""A global middleware that lets each Events API delivery through once (see bot/events.py)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.db.engine import Database
from bot.db.models import Clock
from bot.events import claim_event, prune_events
from bot.kudos.ordering import prune_marks

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0


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
        with self.database.transaction() as session:
            first = claim_event(
                session=session, team_id=str(body.get("team_id", "")), event_id=event_id, now=now
            )
        if not first:
            retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
            log.info("event %s already handled; dropped redelivery retry=%s", event_id, retry)
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
