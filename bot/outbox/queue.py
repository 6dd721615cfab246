"""The outbox table's operations: enqueue, claim with a lease, record the outcome, cancel, report.

A row is enqueued inside the caller's transaction, so the change that causes a message and the
message commit together or not at all (a kudos and its announcement; a morning-post claim and
its post). The sender (bot/outbox/sender.py) claims due rows, sends them and records how it went.

Claims are leases: a claimed row is `sending` with `lease_owner` and `lease_until`; when its
process dies, the lease runs out and any sender claims the row again (crash recovery). On
PostgreSQL several processes claim at once without taking the same row, through
`FOR UPDATE SKIP LOCKED`; on SQLite, `BEGIN IMMEDIATE` (bot/db/engine.py) serialises claims.
A channel with a live lease in another process is skipped, so that processes don't race each
other in one channel's rate limit.

Status: pending → sending → sent | failed | cancelled; sending → pending again on a retry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, tuple_, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from bot.db.dialect import lock_transaction
from bot.db.models import OutboxMessage, utcnow
from bot.db.models import table as table_of
from bot.outbox.kinds import OutboxKind

ERROR_LIMIT = 200


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


def enqueue(
    session: Session,
    *,
    team_id: str,
    kind: OutboxKind,
    channel_id: str,
    text: str | None = None,
    blocks: Sequence[Mapping[str, Any]] | None = None,
    file: Mapping[str, str] | None = None,
    after: Mapping[str, Any] | None = None,
    reply: bool = False,
    subject: str | None = None,
    response_url: str | None = None,
    thread_ts: str | None = None,
    update_ts: str | None = None,
    not_before: dt.datetime | None = None,
    now: dt.datetime | None = None,
    flush: bool = True,
) -> OutboxMessage:
    """Queue one message, in the caller's transaction; call `Sender.notify()` after the commit.

    With neither `text` nor `blocks` the body is left for the kind's handler to draw at send
    time (from `subject`), so that what is sent is what is true then. A stored body is sent
    as it is, without a transaction to draw it. Without `flush` the row is written with the
    session's next flush (many rows: one INSERT) and has no id until then. `file`
    ({"filename", "title", "content"}) is uploaded into the conversation with `text` as its
    comment. `after`: what the kind's handler needs once the message is sent (JSON), read
    back with `stored_body(row)["after"]`. `reply`: an ephemeral answer
    through `response_url` instead of a post.
    """
    now = now or utcnow()
    body = None
    if text is not None or blocks is not None or file is not None or after is not None:
        stored: dict[str, Any] = {"text": text or "", "blocks": list(blocks) if blocks else None}
        if file is not None:
            stored["file"] = dict(file)
        if after is not None:
            stored["after"] = dict(after)
        if reply:
            stored["reply"] = True
        body = json.dumps(stored)
    row = OutboxMessage(
        team_id=team_id,
        kind=kind,
        channel_id=channel_id,
        subject=subject,
        body=body,
        response_url=response_url,
        thread_ts=thread_ts,
        update_ts=update_ts,
        status=Status.PENDING,
        attempts=0,
        not_before=not_before or now,
        created_at=now,
    )
    session.add(row)
    if flush:
        session.flush()
    return row


def stored_body(row: OutboxMessage) -> dict[str, Any] | None:
    """{"text", "blocks"[, "file"]} as written at enqueue time; None when the handler draws it."""
    if row.body is None:
        return None
    body: dict[str, Any] = json.loads(row.body)
    return body


def _due(now: dt.datetime, settled: dt.datetime | None = None) -> ColumnElement[bool]:
    """Due: pending and its time has come, or claimed by a sender whose lease ran out.

    A row held past when it was queued (a kudos's hold, a retry's backoff) is due only once
    every request received before its time has been answered too (`settled`, bot/intake.py):
    an undoing received within the hold has then been written, whatever it waited for.
    """
    pending = and_(OutboxMessage.status == Status.PENDING, OutboxMessage.not_before <= now)
    if settled is not None and settled < now:
        pending = and_(
            pending,
            or_(
                OutboxMessage.not_before <= OutboxMessage.created_at,
                OutboxMessage.not_before <= settled,
            ),
        )
    return or_(
        pending,
        and_(OutboxMessage.status == Status.SENDING, OutboxMessage.lease_until <= now),
    )


def _same(column: Any, value: str | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast one kind of message may go out per workspace, whichever process sends it.

    Slack limits some methods per app and workspace (views.publish: about 100 a minute), so
    the count lives in the table, not in a process: a claim takes only as many rows of the
    kind as `per_minute` leaves room for in the last `window_s` seconds (rows sent then, or
    being sent now). A short window keeps bursts small (Slack's buckets are shallow).
    `newest_first`: the most recently queued rows are claimed first (App Home openers, most
    of whom are still looking at the tab), not the oldest.
    """

    per_minute: float
    window_s: float = 10.0
    newest_first: bool = False

    @property
    def per_window(self) -> int:
        return max(int(self.per_minute * self.window_s / 60), 1)


def recent_sends(
    session: Session, *, kind: str, now: dt.datetime, window: dt.timedelta
) -> dict[str, int]:
    """Rows of `kind` per workspace sent within `window` before `now`, or being sent now."""
    rows = session.execute(
        select(OutboxMessage.team_id, func.count())
        .where(
            OutboxMessage.kind == kind,
            or_(
                and_(OutboxMessage.status == Status.SENT, OutboxMessage.finished_at > now - window),
                and_(OutboxMessage.status == Status.SENDING, OutboxMessage.lease_until > now),
            ),
        )
        .group_by(OutboxMessage.team_id)
    ).all()
    return {team: int(count) for team, count in rows}


def claim(
    session: Session,
    *,
    owner: str,
    now: dt.datetime,
    lease: dt.timedelta,
    kinds: Collection[str],
    coalesce: Mapping[str, int] | None = None,
    channels: int = 1,
    exclude_channels: Collection[tuple[str, str]] = (),
    exclude_teams: Collection[str] = (),
    paces: Mapping[str, Pace] | None = None,
    settled: dt.datetime | None = None,
) -> list[list[OutboxMessage]]:
    """Lease due rows for up to `channels` channels: one group of rows per channel, oldest first.

    A group is the channel's oldest due row and, for a coalescing kind, its due siblings (same
    team, channel, kind, thread_ts and update_ts), up to `coalesce[kind]` rows in all. A channel
    with a live lease anywhere is left out, and so are `exclude_channels` ((team_id, channel_id)
    pairs: the caller's busy channels) and `exclude_teams` (rate-limited workspaces). A held
    row waits for `settled` too (see `_due`).

    One SELECT … FOR UPDATE SKIP LOCKED reads the candidates and one UPDATE leases them, so a
    morning fan-out claims many channels per transaction rather than one. Each claimed row's
    `attempts` grows by one (a row that keeps killing its process ends failed too).

    A kind with a `Pace` is claimed after the others, within its pace (`Pace`), under a
    transaction lock so that two processes claiming at once don't both fill the same room.
    """
    if not kinds or channels < 1:
        return []
    paces = {kind: pace for kind, pace in (paces or {}).items() if kind in kinds}
    caps = coalesce or {}
    # Built once for both parts of the claim: building the clauses is most of an empty
    # claim's CPU, and the serve process claims at every wake-up.
    free = and_(_due(now, settled), ~_busy_elsewhere(now))
    groups = _claim_unpaced(
        session,
        now=now,
        settled=settled,
        free=free,
        kinds=[kind for kind in kinds if kind not in paces],
        caps=caps,
        channels=channels,
        exclude_channels=exclude_channels,
        exclude_teams=exclude_teams,
    )
    for kind, pace in paces.items():
        room = channels - len(groups)
        if room <= 0:
            break
        groups.update(
            _claim_paced(
                session,
                now=now,
                free=free,
                kind=kind,
                pace=pace,
                room=room,
                taken=set(groups),
                exclude_channels=exclude_channels,
                exclude_teams=exclude_teams,
            )
        )
    claimed = [row for group in groups.values() for row in group]
    if not claimed:
        return []
    until = now + lease
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([row.id for row in claimed]))
        .values(
            status=Status.SENDING,
            lease_owner=owner,
            lease_until=until,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    for row in claimed:
        # What the UPDATE wrote, without reading it back.
        set_committed_value(row, "status", Status.SENDING)
        set_committed_value(row, "lease_owner", owner)
        set_committed_value(row, "lease_until", until)
        set_committed_value(row, "attempts", row.attempts + 1)
    return list(groups.values())


# The other rows of a candidate's channel. One alias for the module: an alias made per claim
# set up its column collection afresh each time, over a third of an empty claim's CPU
# (two per claim since the paced kinds), for the same SQL.
_OTHER = aliased(OutboxMessage)


def _busy_elsewhere(now: dt.datetime) -> ColumnElement[bool]:
    return exists().where(
        _OTHER.team_id == OutboxMessage.team_id,
        _OTHER.channel_id == OutboxMessage.channel_id,
        _OTHER.status == Status.SENDING,
        _OTHER.lease_until > now,
    )


def _claim_paced(
    session: Session,
    *,
    now: dt.datetime,
    free: ColumnElement[bool],
    kind: str,
    pace: Pace,
    room: int,
    taken: set[tuple[str, str]],
    exclude_channels: Collection[tuple[str, str]],
    exclude_teams: Collection[str],
) -> dict[tuple[str, str], list[OutboxMessage]]:
    """Up to `room` rows of a paced kind, one per channel, each workspace within its pace;
    `free`: due, and its channel not being sent to elsewhere."""
    due = [free, OutboxMessage.kind == kind]
    if exclude_teams:
        due.append(OutboxMessage.team_id.not_in(list(exclude_teams)))
    teams = session.scalars(select(OutboxMessage.team_id).where(*due).distinct().limit(50)).all()
    if not teams:
        return {}
    lock_transaction(session, f"outbox-pace:{kind}")
    sent = recent_sends(session, kind=kind, now=now, window=dt.timedelta(seconds=pace.window_s))
    order = OutboxMessage.not_before.desc() if pace.newest_first else OutboxMessage.not_before
    groups: dict[tuple[str, str], list[OutboxMessage]] = {}
    for team in teams:
        allowed = min(pace.per_window - sent.get(team, 0), room - len(groups))
        if allowed <= 0:
            continue
        mine = 0
        query = (
            select(OutboxMessage)
            .where(*due, OutboxMessage.team_id == team)
            .order_by(order, OutboxMessage.id)
            .limit(allowed * 2)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
        if exclude_channels:
            query = query.where(
                tuple_(OutboxMessage.team_id, OutboxMessage.channel_id).not_in(
                    list(exclude_channels)
                )
            )
        for row in session.scalars(query):
            key = (row.team_id, row.channel_id)
            if key in taken or key in groups:
                continue  # one at a time per channel (a person's Home: never two in flight)
            groups[key] = [row]
            mine += 1
            if mine >= allowed:
                break
    return groups


def _claim_unpaced(
    session: Session,
    *,
    now: dt.datetime,
    settled: dt.datetime | None,
    free: ColumnElement[bool],
    kinds: Collection[str],
    caps: Mapping[str, int],
    channels: int,
    exclude_channels: Collection[tuple[str, str]],
    exclude_teams: Collection[str],
) -> dict[tuple[str, str], list[OutboxMessage]]:
    if not kinds:
        return {}
    widest = max([caps.get(kind, 1) for kind in kinds] + [1])
    # Enough candidates to fill `channels` groups when every group is full: a backlog in one
    # channel must not hide the other channels' rows.
    scan = channels * widest
    query = (
        select(OutboxMessage)
        .where(free, OutboxMessage.kind.in_(list(kinds)))
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(scan)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )
    if exclude_channels:
        query = query.where(
            tuple_(OutboxMessage.team_id, OutboxMessage.channel_id).not_in(list(exclude_channels))
        )
    if exclude_teams:
        query = query.where(OutboxMessage.team_id.not_in(list(exclude_teams)))
    groups: dict[tuple[str, str], list[OutboxMessage]] = {}
    candidates = session.scalars(query).all()
    for row in candidates:
        key = (row.team_id, row.channel_id)
        group = groups.get(key)
        if group is None:
            if len(groups) < channels:
                groups[key] = [row]
            continue
        first = group[0]
        if len(group) < caps.get(first.kind, 1) and (row.kind, row.thread_ts, row.update_ts) == (
            first.kind,
            first.thread_ts,
            first.update_ts,
        ):
            group.append(row)
    if len(candidates) == scan:
        # The scan stopped short: a coalescing group may have siblings further back.
        for group in groups.values():
            cap = caps.get(group[0].kind, 1)
            if len(group) < cap:
                group += _siblings(session, group, now=now, settled=settled, limit=cap - len(group))
    return groups


def _siblings(
    session: Session,
    group: list[OutboxMessage],
    *,
    now: dt.datetime,
    settled: dt.datetime | None,
    limit: int,
) -> list[OutboxMessage]:
    first = group[0]
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                _due(now, settled),
                OutboxMessage.team_id == first.team_id,
                OutboxMessage.channel_id == first.channel_id,
                OutboxMessage.kind == first.kind,
                _same(OutboxMessage.thread_ts, first.thread_ts),
                _same(OutboxMessage.update_ts, first.update_ts),
                OutboxMessage.id.not_in([row.id for row in group]),
            )
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def held(session: Session, ids: Iterable[int], *, owner: str) -> list[OutboxMessage]:
    """The rows of `ids` still leased to `owner` (locked, oldest first): the ones it may record."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(ids)),
                OutboxMessage.status == Status.SENDING,
                OutboxMessage.lease_owner == owner,
            )
            .order_by(OutboxMessage.id)
            .with_for_update()
        )
    )


def _finish(row: OutboxMessage, status: Status, now: dt.datetime, error: str | None) -> None:
    row.status = status
    row.lease_owner = None
    row.lease_until = None
    row.finished_at = now
    row.last_error = _clip(error)


def _clip(error: str | None) -> str | None:
    if error is None or len(error) <= ERROR_LIMIT:
        return error
    return error[: ERROR_LIMIT - 1] + "…"


def mark_sent(rows: Iterable[OutboxMessage], *, now: dt.datetime, message_ts: str | None) -> None:
    """Sent; `message_ts` is None when Slack gave none (posted through a response_url)."""
    for row in rows:
        _finish(row, Status.SENT, now, None)
        row.message_ts = message_ts


def mark_failed(rows: Iterable[OutboxMessage], *, now: dt.datetime, reason: str) -> None:
    for row in rows:
        _finish(row, Status.FAILED, now, reason)


def drop(rows: Iterable[OutboxMessage], *, now: dt.datetime, reason: str) -> None:
    """Cancel claimed rows that no longer need sending (a handler, e.g. for a withdrawn kudos)."""
    for row in rows:
        _finish(row, Status.CANCELLED, now, reason)


def retry_later(
    rows: Iterable[OutboxMessage],
    *,
    now: dt.datetime,
    delay: float,
    reason: str | None,
    count_attempt: bool = True,
) -> None:
    """Back to pending, due after `delay` seconds. Without `count_attempt` (a 429, a pause
    before sending) the claim's attempt is given back: it was not the message's fault."""
    for row in rows:
        row.status = Status.PENDING
        row.lease_owner = None
        row.lease_until = None
        row.not_before = now + dt.timedelta(seconds=delay)
        if reason is not None:
            row.last_error = _clip(reason)
        if not count_attempt:
            row.attempts = max(row.attempts - 1, 0)


def cancel(
    session: Session,
    *,
    team_id: str,
    subject: str,
    kinds: Collection[str] | None = None,
    now: dt.datetime | None = None,
    channel_ids: Collection[str] | None = None,
) -> int:
    """Cancel the pending rows about `subject` (of `kinds`, or all; to `channel_ids`, or
    anywhere); returns how many.

    Only pending rows: one being sent right now is past recall, and its handler's `render`
    is where a withdrawn subject is dropped at the last moment.
    """
    query = (
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.subject == subject,
            OutboxMessage.status == Status.PENDING,
        )
        .values(status=Status.CANCELLED, finished_at=now or utcnow(), last_error="cancelled")
        .execution_options(synchronize_session=False)
    )
    if kinds is not None:
        query = query.where(OutboxMessage.kind.in_(list(kinds)))
    if channel_ids is not None:
        query = query.where(OutboxMessage.channel_id.in_(list(channel_ids)))
    return session.execute(query).rowcount  # type: ignore[attr-defined,no-any-return]


def next_due(session: Session, *, now: dt.datetime, kinds: Collection[str]) -> dt.datetime | None:
    """When something of `kinds` is next due (maybe now, maybe past); None when nothing waits.

    Rows being sent under a live lease don't count: their sender is alive and on them.
    """
    pending = session.scalar(
        select(func.min(OutboxMessage.not_before)).where(
            OutboxMessage.status == Status.PENDING, OutboxMessage.kind.in_(list(kinds))
        )
    )
    expired = session.scalar(
        select(func.min(OutboxMessage.lease_until)).where(
            OutboxMessage.status == Status.SENDING,
            OutboxMessage.lease_until <= now,
            OutboxMessage.kind.in_(list(kinds)),
        )
    )
    found = [when for when in (pending, expired) if when is not None]
    return min(found) if found else None


def unfinished(session: Session, ids: Collection[int]) -> int:
    """How many of `ids` are still pending or being sent."""
    if not ids:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(ids)),
                OutboxMessage.status.in_([Status.PENDING, Status.SENDING]),
            )
        )
        or 0
    )


def purge(session: Session, *, before: dt.datetime) -> int:
    """Delete sent and cancelled rows that ended before `before`; failed ones stay to be read."""
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_([Status.SENT, Status.CANCELLED]),
            OutboxMessage.finished_at < before,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class FailedMessage:
    id: int
    team_id: str
    kind: str
    channel_id: str
    subject: str | None
    attempts: int
    reason: str
    failed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """What an operator asks: how many rows of each kind in each status, and what failed."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    oldest_pending: dict[str, dt.datetime] = field(default_factory=dict)
    failures: list[FailedMessage] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.counts


def status_summary(
    session: Session, *, team_id: str | None = None, failures: int = 10
) -> OutboxStatus:
    """Counts by kind and status, the oldest pending row of each kind, the last failures."""
    where = [] if team_id is None else [OutboxMessage.team_id == team_id]
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, status, count in session.execute(
        select(OutboxMessage.kind, OutboxMessage.status, func.count())
        .where(*where)
        .group_by(OutboxMessage.kind, OutboxMessage.status)
        .order_by(OutboxMessage.kind)
    ):
        counts[kind][status] = count
    oldest: dict[str, dt.datetime] = {}
    for kind, when in session.execute(
        select(OutboxMessage.kind, func.min(OutboxMessage.created_at))
        .where(*where, OutboxMessage.status == Status.PENDING)
        .group_by(OutboxMessage.kind)
    ):
        oldest[kind] = when
    failed = [
        FailedMessage(
            id=row.id,
            team_id=row.team_id,
            kind=row.kind,
            channel_id=row.channel_id,
            subject=row.subject,
            attempts=row.attempts,
            reason=row.last_error or "",
            failed_at=row.finished_at,
        )
        for row in session.scalars(
            select(OutboxMessage)
            .where(*where, OutboxMessage.status == Status.FAILED)
            .order_by(OutboxMessage.finished_at.desc(), OutboxMessage.id.desc())
            .limit(failures)
        )
    ]
    return OutboxStatus(counts=dict(counts), oldest_pending=oldest, failures=failed)


@dataclass(frozen=True, slots=True)
class Stranded:
    """Rows waiting to be sent whose kind nothing here handles: they would wait for ever."""

    kind: str
    count: int
    oldest_id: int
    oldest_at: dt.datetime


def stranded(
    session: Session, *, handled: Collection[str], team_id: str | None = None
) -> list[Stranded]:
    """Pending and sending rows of a kind outside `handled`, by kind (a row queued by another
    version of the bot, or by a feature whose handler was never registered)."""
    waiting = (
        select(
            OutboxMessage.kind,
            func.count(),
            func.min(OutboxMessage.id),
            func.min(OutboxMessage.created_at),
        )
        .where(OutboxMessage.status.in_([Status.PENDING, Status.SENDING]))
        .group_by(OutboxMessage.kind)
        .order_by(OutboxMessage.kind)
    )
    if handled:
        waiting = waiting.where(OutboxMessage.kind.not_in(list(handled)))
    if team_id is not None:
        waiting = waiting.where(OutboxMessage.team_id == team_id)
    return [
        Stranded(kind=kind, count=count, oldest_id=oldest_id, oldest_at=oldest_at)
        for kind, count, oldest_id, oldest_at in session.execute(waiting)
    ]


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message for `enqueue_many`: the arguments of `enqueue` that a request uses."""

    team_id: str
    kind: OutboxKind
    channel_id: str
    text: str | None = None
    blocks: Sequence[Mapping[str, Any]] | None = None
    subject: str | None = None
    response_url: str | None = None
    thread_ts: str | None = None


_INSERT_MESSAGES = table_of(OutboxMessage).insert()


def enqueue_many(
    session: Session,
    messages: Sequence[NewMessage],
    *,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
) -> None:
    """Queue several messages at once, in the caller's transaction, as `enqueue` does for one.

    One Core INSERT for all of them, and no ORM objects: `enqueue` flushes each message
    through the unit of work, which cost a kudos (an announcement and a DM) more CPU than the
    kudos itself. Their ids are not read back; call `Sender.notify()` after the commit.
    """
    if not messages:
        return
    session.execute(
        _INSERT_MESSAGES,
        [
            {
                "team_id": message.team_id,
                "kind": str(message.kind),
                "channel_id": message.channel_id,
                "subject": message.subject,
                "body": (
                    None
                    if message.text is None and message.blocks is None
                    else json.dumps(
                        {
                            "text": message.text or "",
                            "blocks": list(message.blocks) if message.blocks else None,
                        }
                    )
                ),
                "response_url": message.response_url,
                "thread_ts": message.thread_ts,
                "update_ts": None,
                "status": Status.PENDING.value,
                "attempts": 0,
                "not_before": not_before or now,
                "created_at": now,
            }
            for message in messages
        ],
    )
