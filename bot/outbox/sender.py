"""The sender: drains the outbox into Slack through a `Transport`, paced, coalesced, retried.

Features plug in a `Handler` per kind (`OutboxKind`, bot/outbox/kinds.py; the Slack side's are
registered by bot/slack/outbound/): it draws a claimed batch into one `Outgoing` message at
send time (so a kudos withdrawn meanwhile is left out), says how many rows of its kind may go
in one message, and hears how the send went (`on_sent`, `on_failed`), each time with `now` from
the sender's clock. A row whose body was stored at enqueue time (a morning post, a DM) is sent
as stored, without drawing. The engine knows nothing of kudos or principles.

Nothing waits unseen: a row of a kind no handler registers (queued by another version of the
bot) is never claimed, so a sweep every `SWEEP_EVERY_S` logs one WARNING per such kind, and
`missionbot outbox` flags it. Every outcome is logged with the rows' kind and subject
(`kind=kudos_announcement subject=kudos:<group_id> channel=… ts=…`, see `subject_label`), so a
kudos, a post or a report can be followed by `grep` to its Slack message.

Database work per message is what limits a morning fan-out (2,000 channels at Slack's pace),
so it is shared: one worker at a time claims due rows for up to `claim_channels` channels in
one transaction and hands them to the others through an in-memory queue; a stored body needs
no transaction before the call; outcomes are recorded together, one transaction for whatever
has come back meanwhile (one when the queue is quiet, dozens in a fan-out).

How it sends:
- **Per channel**, at most one message per `channel_interval` (Slack allows about 1/s): a
  channel being sent to or cooling down is left out of claims, so its backlog waits in the
  table and goes out as one coalesced message rather than queueing one message a second behind.
- **Per kind and workspace**, a kind registered with a `Pace` (bot/outbox/queue.py; the App
  Home's views.publish) is claimed only as fast as its pace allows, counted in the table so
  that every process together stays under Slack's limit, newest rows first if it says so.
- **Per workspace**, a 429 closes a `RateLimitGate` for its Retry-After; no worker claims that
  workspace's rows until it opens, and a worker holding a claim waits at it (for a short
  Retry-After, sending the refused message again after it; for a long one, giving the rows
  back). The 429 costs the message no attempt.
- **Held rows** (queued due later than they were queued: a kudos's few seconds' hold, a
  retry's backoff) also wait until every request received before they came due has been
  answered (`settled`, bot/intake.py), so an undoing already received is written first.
- A retryable failure (5xx, network) backs off exponentially (`backoff_first`, doubling, at
  most `backoff_max`) through the row's `not_before`; after `max_attempts` claims or once the
  row is older than `max_age` it ends failed with its reason, logged as one WARNING line. A
  refusal (the channel is archived, the bot isn't in it) ends failed at once; the handler's
  `on_failed` decides what else (e.g. pause a subscription).
- Workers (`workers` threads) sleep here, never in a request thread. `notify()` wakes one at
  once after an enqueue commits; otherwise one of them polls every `poll` seconds (for rows
  other processes enqueued, and retries coming due). A worker that claims something wakes
  another, so a burst spreads over the pool.

Crashes and duplicates. Slack's chat.postMessage has no idempotency key, so exactly-once is
only as good as this: a claimed row is `sending` under a lease (`lease`, default 60 s, longer
than the transport's timeout); the outcome is recorded in one short transaction straight after
Slack answers. A message is sent twice only when
1. the process dies (or loses its database) after Slack accepted the message and before that
   transaction commits — a window of one database round trip; the row's lease then runs out
   and another sender posts it again; or
2. Slack accepted the message but the answer never arrived (a timeout or a dropped
   connection): that is a retryable failure and the message is sent again, because a lost
   announcement is worse than a repeated one; or
3. a send outlives its lease (a transport slower than `lease`): the row may be claimed again
   meanwhile. Keep the transport's timeout well under the lease.
When the database is away after a send, the worker keeps the outcome and retries recording it
until it can (or the sender stops), so an outage alone causes no duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db.engine import Database
from bot.db.models import Clock, OutboxMessage, utcnow
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind, subject_label
from bot.outbox.queue import Pace, Status

log = logging.getLogger(__name__)

ChannelKey = tuple[str, str]  # (team_id, channel_id)


# -- what goes out and what comes back --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for the transport: posted (or, with `update_ts`, an edit of that message)."""

    team_id: str
    channel_id: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    update_ts: str | None = None
    # Where to post instead (in_channel) when the bot can't post in the channel itself.
    response_url: str | None = None
    # A file to upload into the conversation (a user ID: their DM), `text` as its comment.
    file: FileUpload | None = None
    # Answer the command privately through `response_url` (ephemeral) rather than post.
    reply: bool = False
    # An App Home view to publish for the user `channel_id` (views.publish), guarded by the
    # hash of the view Slack has (None: unguarded).
    view: dict[str, Any] | None = None
    view_hash: str | None = None

    @classmethod
    def from_row(cls, row: OutboxMessage) -> Outgoing:
        """The message as enqueued; the row must have a stored body."""
        body = queue.stored_body(row)
        if body is None:
            raise ValueError(f"outbox row {row.id} ({row.kind}) has no stored body")
        file = body.get("file")
        return cls(
            team_id=row.team_id,
            channel_id=row.channel_id,
            text=str(body.get("text") or ""),
            blocks=body.get("blocks"),
            thread_ts=row.thread_ts,
            update_ts=row.update_ts,
            response_url=row.response_url,
            file=FileUpload(**file) if file else None,
            reply=bool(body.get("reply")),
        )


@dataclass(frozen=True, slots=True)
class FileUpload:
    filename: str
    title: str
    content: str | bytes


@dataclass(frozen=True, slots=True)
class Sent:
    """Slack took it. `ts` is None when it went through a response_url (not editable later)."""

    ts: str | None
    channel_id: str | None = None
    via_response_url: bool = False
    # A published view's new hash; an uploaded file's ID.
    view_hash: str | None = None
    file_id: str | None = None


@dataclass(frozen=True, slots=True)
class RateLimited:
    retry_after: float


@dataclass(frozen=True, slots=True)
class Retryable:
    reason: str


@dataclass(frozen=True, slots=True)
class Refused:
    """Slack said no and would say it again (an error code such as is_archived)."""

    reason: str


SendResult = Sent | RateLimited | Retryable | Refused


class Transport(Protocol):
    def send(self, outgoing: Outgoing) -> SendResult:
        """Send one message; never raises for anything Slack or the network can do."""
        ...


class Handler(Protocol):
    """What a feature supplies for its kind of message. `now` is the sender's clock: what a
    handler queues or records, it queues and records at that time."""

    # How many rows of this kind one message may carry (1: never coalesced).
    coalesce: int

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        """Draw the claimed rows (one channel, oldest first) into one message, at send time.

        Return None when none of them needs sending any more; `queue.drop(rows, ...)` leaves
        out some of them (they end cancelled and are not passed to on_sent/on_failed).
        """
        ...

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
        """In the transaction that marks the rows sent (e.g. remember the message's ts)."""
        ...

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        """In the transaction that marks the rows failed (e.g. pause a subscription)."""
        ...


class QuietHandler:
    """A base for handlers: one row a message, and nothing to do after the send, whatever its
    outcome; a subclass draws (`render`) and overrides what it needs."""

    coalesce = 1

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        raise NotImplementedError

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
        return None

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        return None


class StoredBodyHandler(QuietHandler):
    """Sends each row's stored body as it is; subclass to hear outcomes or to coalesce."""

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        return Outgoing.from_row(rows[0])


def _sends_as_stored(handler: Handler) -> bool:
    """Whether the handler sends a stored body as it is, so the drawing transaction can be
    skipped; a handler that renders a stored body its own way (a chart drawn from stored
    numbers) is asked to render it."""
    return type(handler).render is StoredBodyHandler.render


# Sending threads by default: enough to keep many channels going at Slack's pace at once.
WORKERS = 16


@dataclass(frozen=True, slots=True)
class SenderSettings:
    workers: int = WORKERS
    channel_interval: float = 1.0
    lease: dt.timedelta = dt.timedelta(seconds=60)
    poll: float = 0.5
    max_attempts: int = 8
    max_age: dt.timedelta = dt.timedelta(hours=1)
    backoff_first: float = 2.0
    backoff_max: float = 300.0
    # Sent and cancelled rows are deleted this long after they ended (failed ones are kept).
    keep: dt.timedelta = dt.timedelta(days=7)
    # Channels one claim leases at most (0: as many as there are workers). Claimed rows wait
    # in memory for a free worker, so more would only hold leases other processes could use.
    claim_channels: int = 0
    # A closed rate-limit gate is waited out by a worker holding a claim for this long at most.
    gate_wait: float = 3.0


@dataclass(frozen=True, slots=True)
class DrainReport:
    """Rows that reached each end during a `drain`, and those still pending after it."""

    sent: int
    failed: int
    cancelled: int
    pending: int


# -- pacing: the workspace's 429 gate, each channel's interval ---------------------------------
class RateLimitGate:
    """Closed for a while when Slack answers 429; sending threads wait here before each call.

    One per workspace: Slack limits chat.postMessage per app and workspace as well as per
    channel, so after a 429 the other threads would only collect more of them.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._open_at = 0.0

    @property
    def closed(self) -> bool:
        return self.remaining() > 0

    def remaining(self) -> float:
        """Seconds until the gate opens again (0 when open)."""
        with self._lock:
            return max(self._open_at - self._monotonic(), 0.0)

    def close_for(self, seconds: float) -> None:
        with self._lock:
            self._open_at = max(self._open_at, self._monotonic() + seconds)


class WorkspaceGates:
    """A `RateLimitGate` per team, made on first use."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._gates: dict[str, RateLimitGate] = {}

    def __getitem__(self, team_id: str) -> RateLimitGate:
        with self._lock:
            gate = self._gates.get(team_id)
            if gate is None:
                gate = self._gates[team_id] = RateLimitGate(self._monotonic)
            return gate

    def closed_teams(self) -> set[str]:
        with self._lock:
            gates = list(self._gates.items())
        return {team for team, gate in gates if gate.closed}

    def next_open_in(self) -> float | None:
        """Seconds until the first closed gate opens; None when all are open."""
        with self._lock:
            gates = list(self._gates.values())
        waits = [wait for wait in (gate.remaining() for gate in gates) if wait > 0]
        return min(waits) if waits else None


class ChannelPacer:
    """Which channels this process is sending to or letting cool down (single-flight + interval)."""

    def __init__(self, interval: float, monotonic: Callable[[], float]) -> None:
        self._interval = interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._in_flight: dict[ChannelKey, float | None] = {}
        self._cooling: dict[ChannelKey, float] = {}

    def busy(self) -> set[ChannelKey]:
        now = self._monotonic()
        with self._lock:
            self._cooling = {key: end for key, end in self._cooling.items() if end > now}
            return set(self._in_flight) | set(self._cooling)

    def begin(self, key: ChannelKey) -> None:
        with self._lock:
            self._in_flight[key] = None

    def sending(self, key: ChannelKey) -> None:
        """The call to Slack starts now: the interval counts from here."""
        with self._lock:
            self._in_flight[key] = self._monotonic()

    def end(self, key: ChannelKey) -> None:
        with self._lock:
            started = self._in_flight.pop(key, None)
            if started is not None:
                self._cooling[key] = started + self._interval

    def skip(self) -> None:
        """No interval from now on: a channel is still sent to one message at a time, but again
        as soon as its last call ended. For tests whose subject is not pacing (a conversation's
        replies in one channel would each wait out the interval); tests of pacing keep it."""
        with self._lock:
            self._interval = 0.0
            self._cooling.clear()

    def next_free_in(self) -> float | None:
        """Seconds until the first cooling channel may be sent to again; None if none cools."""
        now = self._monotonic()
        with self._lock:
            waits = [end - now for end in self._cooling.values() if end > now]
        return min(waits) if waits else None


def _owner_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# -- the engine -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Claim:
    """One channel's claimed rows, as plain data: what a worker needs to send them."""

    kind: str
    key: ChannelKey
    ids: tuple[int, ...]
    # The message when it was stored at enqueue time (one row): sent without drawing.
    stored: Outgoing | None


@dataclass(frozen=True, slots=True)
class _Outcome:
    claim: Claim
    ids: tuple[int, ...]
    result: SendResult


class Sender:
    """Drains the outbox: `start()`/`stop()` with the process, or `drain()` in the caller."""

    IDLE_BACKSTOP_S = 5.0
    PURGE_EVERY_S = 3600.0
    # Rows of a kind nothing here handles are looked for this often (and at the first claim).
    SWEEP_EVERY_S = 30.0
    RECORD_RETRY_MAX_S = 5.0
    WAIT_POLL_S = 0.05

    def __init__(
        self,
        database: Database,
        transport: Transport,
        handlers: Mapping[str, Handler] | None = None,
        *,
        settings: SenderSettings | None = None,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        owner: str | None = None,
        settled: Callable[[dt.datetime], dt.datetime] | None = None,
    ) -> None:
        self.database = database
        self.transport = transport
        # Before when every request received has been answered (bot/intake.py): a held row
        # waits for that too. Without one, a held row waits for its time alone.
        self.settled = settled or (lambda now: now)
        self.handlers: dict[str, Handler] = {
            OutboxKind.MESSAGE: StoredBodyHandler(),
            **(handlers or {}),
        }
        self.settings = settings or SenderSettings()
        self.paces: dict[str, Pace] = {}
        self.clock = clock
        self.monotonic = monotonic
        self.owner = (owner or _owner_id())[:64]
        self.gates = WorkspaceGates(monotonic)
        self.pacer = ChannelPacer(self.settings.channel_interval, monotonic)
        self._claim_lock = threading.Lock()
        self._ready: deque[Claim] = deque()
        self._ready_lock = threading.Lock()
        self._wake = threading.Condition()
        self._generation = 0
        self._poller: int | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._outcomes: list[_Outcome] = []
        self._outcomes_lock = threading.Lock()
        self._recording = False
        self._database_trouble = False
        self._next_purge = 0.0
        self._next_sweep = 0.0
        # The unhandled kinds already warned about: one WARNING per kind and process.
        self._stranded_warned: set[str] = set()

    def register(self, kind: OutboxKind, handler: Handler, *, pace: Pace | None = None) -> None:
        """Add a feature's handler (before `start()`); `pace`: how fast its kind may go out
        per workspace, across every process (a method Slack limits per workspace)."""
        self.handlers[kind] = handler
        if pace is not None:
            self.paces[kind] = pace

    def skip_pacing(self) -> None:
        """Drop the channel interval (`ChannelPacer.skip`); the workspace's 429 gate and the
        kinds' `Pace`s still hold. For tests that are not about pacing."""
        self.pacer.skip()

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping.clear()
        for n in range(self.settings.workers):
            thread = threading.Thread(target=self._work, name=f"outbox-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the workers: each finishes the message in hand. True if all ended in time.

        Claims not yet started are given back (due at once) for the next sender.
        """
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        self._give_back_unsent()
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        return not self._threads

    def notify(self, channels: Sequence[ChannelKey] = ()) -> None:
        """Something was enqueued (and committed): wake a worker now rather than at its poll.

        `channels`, when given, are where it was enqueued: if this process is sending to or
        pacing every one of them, a claim now would find nothing, so no worker is woken; the
        polling worker claims them when they are free. (A kudos storm into one busy channel
        woke a claim transaction per kudos, which took more CPU than the kudos.)
        """
        if channels and self.pacer.busy().issuperset(channels):
            return
        with self._wake:
            self._generation += 1
            self._wake.notify()

    def counts(self) -> dict[str, int]:
        """Rows this sender brought to sent, failed and cancelled since it was made."""
        with self._counts_lock:
            return dict(self._counts)

    def drain(self, timeout: float, *, retries: bool = True) -> DrainReport:
        """Send in the calling thread until nothing is pending (retries coming due included)
        or `timeout` seconds have passed. For tests and the console; `wait_for` when the
        workers run. `retries=False` sends only what is due now (waiting out a channel's
        pacing or a closed rate-limit gate) and leaves rows due later, such as a retry's.
        A stopped sender sends nothing."""
        before = self.counts()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stopping.is_set():
            if self._step(channels=1):
                continue
            with self.database.reading() as session:
                due = queue.next_due(session, now=self.clock(), kinds=list(self.handlers))
            if due is None or (not retries and due > self.clock()):
                break
            waits = [self.settings.poll, deadline - time.monotonic()]
            until_due = (due - self.clock()).total_seconds()
            if until_due > 0:
                waits.append(until_due)
            for wait in (self.pacer.next_free_in(), self.gates.next_open_in()):
                if wait is not None:
                    waits.append(wait)
            time.sleep(max(min(waits), 0.005))
        after = self.counts()
        with self.database.reading() as session:
            pending = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.status == Status.PENDING,
                    OutboxMessage.kind.in_(list(self.handlers)),
                )
            )
        return DrainReport(
            sent=after.get("sent", 0) - before.get("sent", 0),
            failed=after.get("failed", 0) - before.get("failed", 0),
            cancelled=after.get("cancelled", 0) - before.get("cancelled", 0),
            pending=int(pending or 0),
        )

    def wait_for(self, ids: Sequence[int], timeout: float) -> bool:
        """Wait until the rows `ids` have ended (sent, failed or cancelled), whoever sends them:
        this sender's workers or another process's. False if some are left after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            with self.database.reading() as session:
                left = queue.unfinished(session, ids)
            if not left:
                return True
            if time.monotonic() >= deadline or self._stopping.wait(self.WAIT_POLL_S):
                return False

    # -- one worker ---------------------------------------------------------------------------
    def _work(self) -> None:
        seen = self._generation
        while not self._stopping.is_set():
            try:
                claimed = self._step(channels=self._claim_size())
            except SQLAlchemyError as exc:
                self._database_down(exc)
                self._stopping.wait(self.settings.poll)
                continue
            except Exception:
                log.exception("outbox worker error")
                self._stopping.wait(self.settings.poll)
                continue
            if not claimed:
                seen = self._idle(seen)

    def _claim_size(self) -> int:
        return self.settings.claim_channels or max(self.settings.workers, 1)

    def _idle(self, seen: int) -> int:
        """Wait for `notify()`; one idle worker at a time also polls (and watches cool-downs)."""
        with self._wake:
            if self._generation == seen and not self._stopping.is_set():
                me = threading.get_ident()
                polling = self._poller is None
                if polling:
                    self._poller = me
                    timeout = self.settings.poll
                    free_in = self.pacer.next_free_in()
                    if free_in is not None:
                        timeout = min(timeout, free_in + 0.001)
                else:
                    timeout = self.IDLE_BACKSTOP_S
                self._wake.wait(timeout)
                if polling:
                    self._poller = None
            return self._generation

    def _database_down(self, exc: SQLAlchemyError) -> None:
        # One WARNING per outage, not one per worker and poll.
        if not self._database_trouble:
            self._database_trouble = True
            log.warning("outbox: database unavailable, will retry: %s", _first_line(exc))

    def _step(self, *, channels: int) -> bool:
        """Send one claimed channel's message, claiming more first if none waits; False when
        nothing could be claimed."""
        claim = self._next(channels)
        if claim is None:
            return False
        try:
            self._send(claim)
        finally:
            self.pacer.end(claim.key)
        return True

    def _take(self) -> Claim | None:
        with self._ready_lock:
            return self._ready.popleft() if self._ready else None

    def _next(self, channels: int) -> Claim | None:
        """A claim from the in-memory queue, or claim up to `channels` channels (one worker at a
        time: the others wait for its claim rather than claim past one another)."""
        claim = self._take()
        if claim is not None:
            return claim
        with self._claim_lock:
            claim = self._take()
            if claim is not None or self._stopping.is_set():
                return claim
            now = self.clock()
            self._purge(now)
            self._sweep_stranded()
            claims = self._claim(now, channels)
            if self._database_trouble:
                self._database_trouble = False
                log.warning("outbox: database available again")
            if not claims:
                return None
            for claimed in claims:
                self.pacer.begin(claimed.key)
            with self._ready_lock:
                self._ready.extend(claims[1:])
        # Maybe there is more (queued here, or in the table): wake the others.
        for _ in claims[1:] or [claims[0]]:
            self.notify()
        return claims[0]

    def _claim(self, now: dt.datetime, channels: int) -> list[Claim]:
        with self.database.transaction() as session:
            groups = queue.claim(
                session,
                owner=self.owner,
                now=now,
                lease=self.settings.lease,
                kinds=list(self.handlers),
                coalesce={kind: h.coalesce for kind, h in self.handlers.items()},
                channels=channels,
                exclude_channels=self.pacer.busy(),
                exclude_teams=self.gates.closed_teams(),
                settled=self.settled(now),
                paces=self.paces,
            )
            return [
                Claim(
                    kind=rows[0].kind,
                    key=(rows[0].team_id, rows[0].channel_id),
                    ids=tuple(row.id for row in rows),
                    stored=(
                        Outgoing.from_row(rows[0])
                        if len(rows) == 1
                        and rows[0].body is not None
                        and _sends_as_stored(self.handlers[rows[0].kind])
                        else None
                    ),
                )
                for rows in groups
            ]

    def _give_back_unsent(self) -> None:
        """At stop: claims still queued in memory go back to pending, due now, no attempt lost."""
        with self._ready_lock:
            claims, self._ready = list(self._ready), deque()
        if not claims:
            return
        try:
            with self.database.transaction() as session:
                rows = queue.held(session, [i for c in claims for i in c.ids], owner=self.owner)
                queue.retry_later(rows, now=self.clock(), delay=0, reason=None, count_attempt=False)
        except SQLAlchemyError as exc:
            log.warning("outbox: could not give back %d claim(s): %s", len(claims), exc)

    def _purge(self, now: dt.datetime) -> None:
        """At most once every `PURGE_EVERY_S`: forget what was sent long ago (under the lock)."""
        if self.monotonic() < self._next_purge:
            return
        self._next_purge = self.monotonic() + self.PURGE_EVERY_S
        with self.database.transaction() as session:
            purged = queue.purge(session, before=now - self.settings.keep)
        if purged:
            log.info(
                "outbox: deleted %d message(s) sent before %s", purged, now - self.settings.keep
            )

    def _sweep_stranded(self) -> None:
        """At most once every `SWEEP_EVERY_S`: a WARNING for each kind of waiting row that no
        handler here claims (under the lock), once per kind: without one, such a row would
        wait in silence for ever."""
        if self.monotonic() < self._next_sweep:
            return
        self._next_sweep = self.monotonic() + self.SWEEP_EVERY_S
        with self.database.reading() as session:
            found = queue.stranded(session, handled=list(self.handlers))
        for kind in found:
            if kind.kind in self._stranded_warned:
                continue
            self._stranded_warned.add(kind.kind)
            log.warning(
                "outbox: %d message(s) of kind=%s wait with no handler in this version and will"
                " not be sent (oldest #%d, queued %s); `missionbot outbox` lists them",
                kind.count,
                kind.kind,
                kind.oldest_id,
                f"{kind.oldest_at:%Y-%m-%d %H:%M:%SZ}",
            )

    def _send(self, claim: Claim) -> None:
        outgoing = claim.stored
        ids = claim.ids
        if outgoing is None:
            drawn = self._draw(claim)
            if drawn is None:
                return
            outgoing, ids = drawn
        self._record(_Outcome(claim, ids, self._send_through_gate(claim, outgoing)))

    def _send_through_gate(self, claim: Claim, outgoing: Outgoing) -> SendResult:
        """Send once the workspace's gate is open. A short wait (≤ `gate_wait`, a fan-out's
        usual Retry-After) is waited out here with the lease in hand, and a 429 answered
        within it is sent again after it: no transaction to give the rows back and claim
        them again. A longer one gives the rows back, due when the gate opens."""
        gate = self.gates[claim.key[0]]
        budget_end = self.monotonic() + self.settings.gate_wait
        while True:
            remaining = gate.remaining()
            if remaining > 0:
                if self.monotonic() + remaining > budget_end or self._stopping.wait(remaining):
                    return RateLimited(gate.remaining())
                continue
            self.pacer.sending(claim.key)
            try:
                result = self.transport.send(outgoing)
            except Exception as exc:
                log.exception("outbox: transport raised for %s rows %s", claim.kind, claim.ids)
                return Retryable(f"transport error: {type(exc).__name__}")
            if not isinstance(result, RateLimited):
                return result
            # Every worker of this workspace waits with this one.
            gate.close_for(result.retry_after)
            log.info(
                "outbox: rate limited, team=%s channel=%s waits %.1fs",
                claim.key[0],
                claim.key[1],
                result.retry_after,
            )

    def _draw(self, claim: Claim) -> tuple[Outgoing, tuple[int, ...]] | None:
        """The handler draws the rows at send time, in a transaction of its own (None: nothing
        left to send; the rows it dropped are cancelled)."""
        handler = self.handlers[claim.kind]
        try:
            with self.database.transaction() as session:
                rows = queue.held(session, claim.ids, owner=self.owner)
                now = self.clock()
                outgoing = handler.render(session, rows, now) if rows else None
                live = [row for row in rows if row.status == Status.SENDING]
                if outgoing is None or not live:
                    queue.drop(live, now=now, reason="nothing left to send")
                    self._count("cancelled", len(rows))
                    return None
                ids = tuple(row.id for row in live)
            self._count("cancelled", len(rows) - len(live))
            return outgoing, ids
        except SQLAlchemyError:
            raise  # the lease runs out and the rows are claimed again
        except Exception as exc:
            log.exception("outbox: drawing %s rows %s failed", claim.kind, claim.ids)
            failure = Retryable(f"drawing failed: {type(exc).__name__}")
            self._record(_Outcome(claim, claim.ids, failure))
            return None

    # -- recording ----------------------------------------------------------------------------
    def _record(self, outcome: _Outcome) -> None:
        """Record the outcome with whatever else has come back meanwhile, in one transaction.

        The worker that finds nobody recording records for everyone until nothing is left;
        the others hand their outcome over and go back to sending.
        """
        with self._outcomes_lock:
            self._outcomes.append(outcome)
            if self._recording:
                return
            self._recording = True
        while True:
            with self._outcomes_lock:
                batch, self._outcomes = self._outcomes, []
                if not batch:
                    self._recording = False
                    return
            try:
                self._record_batch(batch)
            except BaseException:
                with self._outcomes_lock:
                    self._recording = False
                raise

    def _record_batch(self, batch: list[_Outcome]) -> None:
        """Record, retrying while the database is away: Slack has already spoken."""
        delay = 0.5
        while True:
            try:
                self._apply_all(batch, hooks=True)
                return
            except SQLAlchemyError as exc:
                ids = [i for outcome in batch for i in outcome.ids]
                log.warning(
                    "outbox: could not record rows %s, retrying in %.1fs: %s",
                    ids,
                    delay,
                    _first_line(exc),
                )
                if self._stopping.wait(delay):
                    log.warning("outbox: stopped before recording rows %s: may be sent again", ids)
                    return
                delay = min(delay * 2, self.RECORD_RETRY_MAX_S)
            except Exception:
                # A handler's hook failed. Record each outcome on its own, and the failing one
                # without its hook rather than not at all: an unrecorded send is sent again.
                if len(batch) > 1:
                    for outcome in batch:
                        self._record_batch([outcome])
                    return
                log.exception(
                    "outbox: %s handler failed on %s",
                    batch[0].claim.kind,
                    type(batch[0].result).__name__,
                )
                self._apply_all(batch, hooks=False)
                return

    def _apply_all(self, batch: list[_Outcome], *, hooks: bool) -> None:
        counts: Counter[str] = Counter()
        with self.database.transaction() as session:
            held = {
                row.id: row
                for row in queue.held(
                    session, [i for outcome in batch for i in outcome.ids], owner=self.owner
                )
            }
            for outcome in batch:
                rows = [held[i] for i in outcome.ids if i in held]
                self._apply(session, outcome, rows, counts, hooks=hooks)
        for what, n in counts.items():
            self._count(what, n)

    def _apply(
        self,
        session: Session,
        outcome: _Outcome,
        rows: list[OutboxMessage],
        counts: Counter[str],
        *,
        hooks: bool,
    ) -> None:
        kind, result = outcome.claim.kind, outcome.result
        handler = self.handlers[kind]
        if not rows:
            log.warning(
                "outbox: lease on %s rows %s lost before recording %s (sent twice if %s)",
                kind,
                list(outcome.ids),
                type(result).__name__,
                "another sender sent it" if isinstance(result, Sent) else "it was sent",
            )
            return
        now = self.clock()
        if isinstance(result, Sent):
            queue.mark_sent(rows, now=now, message_ts=result.ts)
            if hooks:
                handler.on_sent(session, rows, result, now)
            counts["sent"] += len(rows)
            log.info(
                "outbox sent %s ts=%s rows=%s",
                # Where it is in Slack: a DM's conversation (to= the person it went to).
                _about(rows, posted_in=result.channel_id),
                result.ts or ("response_url" if result.via_response_url else "-"),
                _ids(rows),
            )
            return
        about = f"{_about(rows)} rows={_ids(rows)}"
        if isinstance(result, RateLimited):
            self.gates[rows[0].team_id].close_for(result.retry_after)
            queue.retry_later(
                rows, now=now, delay=result.retry_after, reason="rate limited", count_attempt=False
            )
            log.info("outbox: rate limited, %s waits %.1fs", about, result.retry_after)
            return
        attempts = max(row.attempts for row in rows)
        if isinstance(result, Retryable):
            oldest = min(row.created_at for row in rows)
            if attempts < self.settings.max_attempts and now - oldest < self.settings.max_age:
                delay = min(
                    self.settings.backoff_first * 2 ** (attempts - 1), self.settings.backoff_max
                )
                queue.retry_later(rows, now=now, delay=delay, reason=result.reason)
                log.info("outbox: %s retries in %.1fs: %s", about, delay, result.reason)
                return
            reason = f"{result.reason}; gave up after {attempts} attempts"
        else:
            reason = result.reason
        queue.mark_failed(rows, now=now, reason=reason)
        if hooks:
            handler.on_failed(session, rows, reason, now)
        counts["failed"] += len(rows)
        log.warning("outbox failed %s attempts=%d: %s", about, attempts, reason)

    def _count(self, what: str, n: int) -> None:
        if n:
            with self._counts_lock:
                self._counts[what] += n


def _about(rows: Sequence[OutboxMessage], *, posted_in: str | None = None) -> str:
    """The log's account of a batch: its kind, what it is about (each subject once) and where
    it goes; `posted_in`: the conversation Slack posted it in, when not the row's channel."""
    subjects = ",".join(dict.fromkeys(subject_label(row) for row in rows))
    channel = rows[0].channel_id
    where = f"channel={channel}"
    if posted_in and posted_in != channel:
        where = f"channel={posted_in} to={channel}"
    return f"kind={rows[0].kind} subject={subjects} team={rows[0].team_id} {where}"


def _ids(rows: Sequence[OutboxMessage], shown: int = 20) -> str:
    """The rows' ids, the first `shown` of a long batch (a burst of reactions: thousands)."""
    ids = ",".join(str(row.id) for row in rows[:shown])
    return ids if len(rows) <= shown else f"{ids},…(+{len(rows) - shown})"


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
