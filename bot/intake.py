"""Requests received and not yet answered: what a held announcement waits for besides its time.

A reaction's thread reply and DM, and a kudos message's announcement, are held `SETTLE` (3 s)
after the kudos is written, because Slack sends its undoing (a removal, a deletion) right
behind it, and the undoing is handled before its ack (bot/kudos/ordering.py). A time alone
is not enough: on a busy machine an undoing that arrived within the 3 s can still be waiting
for a request thread, or for its turn to write on SQLite, when the 3 s are up, and what it
undoes was then announced first. So a held message also waits until every request received
before its time came has been answered (`settled`): the undoing, having arrived by then, has
by then been written.

Requests are counted where they are received, not where a request thread starts on them: the
server (waitress's channel, bot/runtime.py; the tests' in-process server) takes a ticket as
soon as a request has been read whole, and gives it back once it is answered. Only this
process's requests are seen: an undoing that reaches another `serve` process, or comes
through Socket Mode, is still decided by the 3 s alone (README: Recognition in the
conversation). A request in flight longer than `patience` stops counting, so that one stuck
request can't hold every announcement.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection

from bot.db.models import Clock, utcnow

log = logging.getLogger(__name__)

# Longer than any request is answered in (Slack gives up after 3 s; a SQLite write waits up to
# 10 s for its turn), shorter than Slack's first retry of an event (a minute).
PATIENCE_S = 30.0


class Intake:
    """Tickets for the requests in flight, in the order they were received; thread-safe."""

    def __init__(
        self,
        *,
        clock: Clock = utcnow,
        paths: Collection[str] | None = None,
        patience: float = PATIENCE_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        # The paths whose requests count (None: every path): Slack's, not a dashboard page.
        self.paths = frozenset(paths) if paths is not None else None
        self.patience = patience
        self.monotonic = monotonic
        self._numbers = itertools.count(1)
        # ticket → (received at, by `clock`; received at, by `monotonic`), oldest first.
        self._in_flight: OrderedDict[int, tuple[dt.datetime, float]] = OrderedDict()
        self._lock = threading.Lock()

    def received(self, path: str = "") -> int | None:
        """A request was received whole: its ticket (None when its path doesn't count)."""
        if self.paths is not None and path.split("?", 1)[0] not in self.paths:
            return None
        with self._lock:
            ticket = next(self._numbers)
            self._in_flight[ticket] = (self.clock(), self.monotonic())
        return ticket

    def answered(self, ticket: int | None) -> None:
        """The request of `ticket` was answered (or dropped); unknown tickets are ignored."""
        if ticket is None:
            return
        with self._lock:
            self._in_flight.pop(ticket, None)

    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def settled(self, now: dt.datetime) -> dt.datetime:
        """The time before which every request received has been answered: `now`, or when the
        oldest request still in flight arrived (if that is earlier)."""
        with self._lock:
            self._forget_stuck()
            if not self._in_flight:
                return now
            oldest, _ = next(iter(self._in_flight.values()))
        return min(now, oldest)

    def _forget_stuck(self) -> None:
        """Drop tickets older than `patience` (under the lock), with one line each."""
        limit = self.monotonic() - self.patience
        while self._in_flight:
            ticket, (_, received) = next(iter(self._in_flight.items()))
            if received > limit:
                return
            del self._in_flight[ticket]
            log.warning(
                "a request in flight for over %.0f s no longer holds announcements back",
                self.patience,
            )
