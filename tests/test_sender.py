"""The outbox sender: exactly once, paced per channel, coalesced, gated on 429, retried, leased.

Most tests send through a scripted in-memory transport that records when each call started
and ended; the last ones go through the Slack transport to the fake Slack Web API.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.engine import Database
from bot.db.models import OutboxMessage, utcnow
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.queue import Status
from bot.outbox.sender import (
    ChannelPacer,
    Outgoing,
    RateLimited,
    Refused,
    Retryable,
    Sender,
    SenderSettings,
    SendResult,
    Sent,
)
from bot.slack.transport import SlackTransport
from tests.support.fake_slack import FakeSlack

TEAM = "T0TIDEWATER"
FAST = SenderSettings(workers=4, poll=0.05, backoff_first=0.05)
# For tests about something else than pacing: a channel's next message need not wait a second.
UNPACED = replace(FAST, channel_interval=0.0)


@dataclass(frozen=True)
class Call:
    started: float
    ended: float
    outgoing: Outgoing
    result: SendResult


class ScriptedTransport:
    """Answers `Sent` unless `answer` says otherwise; records every call with its times."""

    def __init__(
        self,
        answer: Callable[[Outgoing, int], SendResult | None] | None = None,
        latency: float = 0.0,
    ) -> None:
        self.answer = answer
        self.latency = latency
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._n = 0

    def send(self, outgoing: Outgoing) -> SendResult:
        started = time.monotonic()
        with self._lock:
            self._n += 1
            n = self._n
        result = self.answer(outgoing, n) if self.answer else None
        if result is None:
            time.sleep(self.latency)
            result = Sent(ts=f"{1_700_000_000 + n}.000100", channel_id=outgoing.channel_id)
        with self._lock:
            self.calls.append(Call(started, time.monotonic(), outgoing, result))
        return result

    def sent_texts(self) -> list[str]:
        with self._lock:
            return [c.outgoing.text for c in self.calls if isinstance(c.result, Sent)]


class JoiningHandler:
    """A coalescing kind: one message lists every row's subject; withdrawn subjects are left out."""

    def __init__(self, coalesce: int, withdrawn: Sequence[str] = ()) -> None:
        self.coalesce = coalesce
        self.withdrawn = set(withdrawn)
        self.sent: list[tuple[list[str], str | None]] = []
        self.failed: list[tuple[list[str], str]] = []

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        gone = [row for row in rows if row.subject in self.withdrawn]
        queue.drop(gone, now=now, reason="withdrawn")
        live = [row for row in rows if row.subject not in self.withdrawn]
        if not live:
            return None
        text = " ".join(str(row.subject) for row in live)
        return Outgoing(team_id=rows[0].team_id, channel_id=rows[0].channel_id, text=text)

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
        self.sent.append(([str(row.subject) for row in rows], sent.ts))

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        self.failed.append(([str(row.subject) for row in rows], reason))


def put(
    database: Database,
    count: int,
    *,
    channel: str | Callable[[int], str] = "C1",
    kind: str = OutboxKind.MESSAGE,
    prefix: str = "m",
) -> list[int]:
    with database.transaction() as session:
        rows = [
            queue.enqueue(
                session,
                team_id=TEAM,
                kind=kind,
                channel_id=channel(n) if callable(channel) else channel,
                subject=f"{prefix}{n}",
                text=f"{prefix}{n}" if kind == OutboxKind.MESSAGE else None,
            )
            for n in range(count)
        ]
        return [row.id for row in rows]


def statuses(database: Database) -> Counter[str]:
    with database.reading() as session:
        return Counter(session.scalars(select(OutboxMessage.status)))


def row(database: Database, row_id: int) -> OutboxMessage:
    with database.reading() as session:
        found = session.get(OutboxMessage, row_id)
        assert found is not None
        return found


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_enqueued_message_is_sent_once_and_recorded(database: Database) -> None:
    [row_id] = put(database, 1)
    transport = ScriptedTransport()
    report = Sender(database, transport, settings=FAST).drain(timeout=5)
    assert report.sent == 1
    assert report.pending == 0
    assert transport.sent_texts() == ["m0"]
    sent = row(database, row_id)
    assert sent.status == Status.SENT
    assert sent.message_ts == transport.calls[0].result.ts  # type: ignore[union-attr]
    assert sent.lease_owner is None
    assert Sender(database, transport, settings=FAST).drain(timeout=1).sent == 0
    assert len(transport.calls) == 1


def test_a_message_rolled_back_with_its_cause_is_never_sent(database: Database) -> None:
    def give_kudos_that_fails() -> None:
        with database.transaction() as session:
            queue.enqueue(
                session, team_id=TEAM, kind=OutboxKind.MESSAGE, channel_id="C1", text="hi"
            )
            raise RuntimeError("the kudos failed")

    with pytest.raises(RuntimeError):
        give_kudos_that_fails()
    assert statuses(database) == Counter()
    transport = ScriptedTransport()
    Sender(database, transport, settings=FAST).drain(timeout=1)
    assert transport.calls == []


def test_several_senders_draining_one_queue_send_each_message_exactly_once(db_url: str) -> None:
    count = 300
    databases = [Database(db_url) for _ in range(3)]
    put(databases[0], count, channel=lambda n: f"C{n:04d}")
    transport = ScriptedTransport(latency=0.003)
    senders = [Sender(db, transport, settings=FAST) for db in databases]
    for sender in senders:
        sender.start()
    try:
        wait_until(lambda: statuses(databases[0])[Status.SENT] == count, timeout=90)
    finally:
        assert all(sender.stop(timeout=10) for sender in senders)
    texts = Counter(transport.sent_texts())
    assert len(texts) == count
    assert set(texts.values()) == {1}
    assert len(transport.calls) == count
    # The work was shared, not done by one sender while the others idled.
    assert sum(1 for s in senders if s.counts().get("sent")) >= 2
    for db in databases:
        db.dispose()


def test_a_row_claimed_by_a_dead_process_is_sent_once_after_its_lease_expires(
    database: Database,
) -> None:
    [row_id] = put(database, 1)
    with database.transaction() as session:
        [claimed] = queue.claim(
            session,
            owner="dead-process",
            now=utcnow(),
            lease=dt.timedelta(seconds=60),
            kinds=[OutboxKind.MESSAGE],
        )
    assert [r.id for r in claimed] == [row_id]
    transport = ScriptedTransport()
    # While the lease runs, nobody else sends it.
    assert Sender(database, transport, settings=FAST).drain(timeout=1).sent == 0
    assert transport.calls == []
    later = Sender(
        database, transport, settings=FAST, clock=lambda: utcnow() + dt.timedelta(seconds=61)
    )
    assert later.drain(timeout=5).sent == 1
    assert transport.sent_texts() == ["m0"]
    assert row(database, row_id).attempts == 2
    assert later.drain(timeout=1).sent == 0
    assert len(transport.calls) == 1


def test_each_channel_gets_at_most_one_message_a_second(database: Database) -> None:
    put(database, 3, channel="CA", prefix="a")
    put(database, 3, channel="CB", prefix="b")
    transport = ScriptedTransport(latency=0.01)
    sender = Sender(database, transport, settings=FAST)
    sender.start()
    try:
        wait_until(lambda: statuses(database)[Status.SENT] == 6, timeout=30)
    finally:
        assert sender.stop(timeout=5)
    times: dict[str, list[float]] = {}
    for channel in ("CA", "CB"):
        times[channel] = sorted(
            c.started for c in transport.calls if c.outgoing.channel_id == channel
        )
        assert len(times[channel]) == 3
        gaps = [b - a for a, b in itertools.pairwise(times[channel])]
        assert min(gaps) >= 0.99, gaps
    # The two channels were paced side by side, not one after the other: each channel's
    # first message went out before the other's second (an order, not a time, so that a busy
    # machine can't fail it).
    assert times["CA"][0] < times["CB"][1], times
    assert times["CB"][0] < times["CA"][1], times


def test_a_skipped_pacer_still_sends_one_message_at_a_time_per_channel() -> None:
    """What the tests not about pacing keep (conftest.py's `running_bot`): no interval after a
    send, but a channel with a call in flight is still busy."""
    now = [100.0]
    pacer = ChannelPacer(1.0, lambda: now[0])
    key = ("T1", "C1")
    pacer.begin(key)
    pacer.sending(key)
    pacer.end(key)
    assert pacer.busy() == {key}
    assert pacer.next_free_in() == pytest.approx(1.0)
    pacer.skip()
    assert pacer.busy() == set()
    assert pacer.next_free_in() is None
    pacer.begin(key)
    pacer.sending(key)
    assert pacer.busy() == {key}
    pacer.end(key)
    assert pacer.busy() == set()
    assert pacer.next_free_in() is None


def test_a_channels_backlog_is_coalesced_into_few_messages(database: Database) -> None:
    handler = JoiningHandler(coalesce=25)
    transport = ScriptedTransport(latency=0.01)
    sender = Sender(database, transport, {"joined": handler}, settings=FAST)
    sender.start()
    started = time.monotonic()
    try:
        # 40 arrive over 2 s, as in a storm; one message a second carries what has piled up.
        for n in range(40):
            put(database, 1, kind="joined", prefix=f"k{n:02d}-")
            sender.notify()
            time.sleep(0.05)
        arrived = time.monotonic() - started
        wait_until(lambda: statuses(database)[Status.SENT] == 40, timeout=30)
    finally:
        assert sender.stop(timeout=5)
    carried = [subject for text in transport.sent_texts() for subject in text.split()]
    assert sorted(carried) == sorted(f"k{n:02d}-0" for n in range(40))
    # One message a second while they arrive (2 s when the machine is idle, longer when it is
    # busy), and one for the rest: never one per kudos.
    most = int(arrived) + 3
    assert len(transport.calls) <= most, [len(t.split()) for t in transport.sent_texts()]
    assert sum(len(subjects) for subjects, _ts in handler.sent) == 40


def test_a_coalesced_batch_never_exceeds_the_handlers_cap(database: Database) -> None:
    put(database, 40, kind="joined")
    handler = JoiningHandler(coalesce=15)
    transport = ScriptedTransport()
    report = Sender(database, transport, {"joined": handler}, settings=FAST).drain(timeout=10)
    assert report.sent == 40
    assert [len(text.split()) for text in transport.sent_texts()] == [15, 15, 10]


def test_a_429_pauses_every_worker_for_its_retry_after(database: Database) -> None:
    put(database, 8, channel=lambda n: f"C{n}")

    def answer(_outgoing: Outgoing, n: int) -> SendResult | None:
        return RateLimited(retry_after=1.0) if n == 1 else None

    transport = ScriptedTransport(answer, latency=0.05)
    sender = Sender(database, transport, settings=FAST)
    sender.start()
    try:
        wait_until(lambda: statuses(database)[Status.SENT] == 8, timeout=10)
    finally:
        assert sender.stop(timeout=5)
    [limited] = [c for c in transport.calls if isinstance(c.result, RateLimited)]
    after = [c.started for c in transport.calls if c.started > limited.ended]
    assert len(after) >= 4  # the rows left, the rate-limited one among them
    # A worker that had passed the gate before the 429 came back may still send at once (the
    # other workers: one each, however late a busy machine runs them); every other call begun
    # after the gate closed waited out the Retry-After.
    waited = sorted(after)[FAST.workers - 1 :]
    assert waited
    assert min(waited) >= limited.ended + 0.99
    assert len(transport.sent_texts()) == 8
    with database.reading() as session:
        retried = session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel_id == limited.outgoing.channel_id)
        ).one()
    assert retried.attempts == 1  # a 429 is not the message's fault


def test_failures_back_off_then_end_failed_with_their_reason(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    put(database, 1, kind="joined")
    handler = JoiningHandler(coalesce=1)
    transport = ScriptedTransport(lambda _o, _n: Retryable("Slack answered HTTP 500"))
    # Unpaced: the channel's 1 s interval would space the tries out more than their backoff.
    settings = SenderSettings(
        workers=1, poll=0.05, backoff_first=0.1, max_attempts=3, channel_interval=0.0
    )
    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        report = Sender(database, transport, {"joined": handler}, settings=settings).drain(10)
    assert report.failed == 1
    times = [c.started for c in transport.calls]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.1
    assert times[2] - times[1] >= 0.2  # doubled
    with database.reading() as session:
        failed = session.scalars(select(OutboxMessage)).one()
    assert failed.status == Status.FAILED
    assert failed.last_error == "Slack answered HTTP 500; gave up after 3 attempts"
    assert handler.failed == [(["m0"], "Slack answered HTTP 500; gave up after 3 attempts")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Slack answered HTTP 500" in warnings[0]


def test_a_refusal_fails_at_once_and_the_handler_hears_why(database: Database) -> None:
    put(database, 1, kind="joined")
    handler = JoiningHandler(coalesce=1)
    transport = ScriptedTransport(lambda _o, _n: Refused("is_archived"))
    report = Sender(database, transport, {"joined": handler}, settings=FAST).drain(timeout=5)
    assert report.failed == 1
    assert len(transport.calls) == 1
    assert handler.failed == [(["m0"], "is_archived")]


def test_a_cancelled_subject_is_never_sent(database: Database) -> None:
    put(database, 3)
    with database.transaction() as session:
        assert queue.cancel(session, team_id=TEAM, subject="m1") == 1
    transport = ScriptedTransport()
    report = Sender(database, transport, settings=UNPACED).drain(timeout=5)
    assert sorted(transport.sent_texts()) == ["m0", "m2"]
    assert report.sent == 2
    assert statuses(database) == Counter({Status.SENT: 2, Status.CANCELLED: 1})


def test_rows_withdrawn_before_sending_are_left_out_by_the_handler(database: Database) -> None:
    put(database, 4, kind="joined")
    handler = JoiningHandler(coalesce=10, withdrawn=["m1", "m3"])
    transport = ScriptedTransport()
    report = Sender(database, transport, {"joined": handler}, settings=FAST).drain(timeout=5)
    assert transport.sent_texts() == ["m0 m2"]
    assert (report.sent, report.cancelled) == (2, 2)
    assert handler.sent[0][0] == ["m0", "m2"]


def test_notify_wakes_a_sleeping_worker_at_once(database: Database) -> None:
    transport = ScriptedTransport()
    # The poller sleeps a minute, and so does the other worker (its idle backstop): a send
    # well before that was woken by notify(), however slowly a busy machine runs the claim.
    sender = Sender(database, transport, settings=SenderSettings(workers=2, poll=60.0))
    sender.IDLE_BACKSTOP_S = 60.0
    sender.start()
    try:
        time.sleep(0.2)  # both workers asleep, the poller for a minute
        put(database, 1)
        enqueued = time.monotonic()
        sender.notify()
        wait_until(lambda: bool(transport.calls), timeout=30)
        assert transport.calls[0].started - enqueued < 30
    finally:
        assert sender.stop(timeout=5)


def test_through_slack_a_429_waits_its_retry_after_and_posts_once(
    database: Database, slack: FakeSlack
) -> None:
    from slack_sdk import WebClient

    put(database, 1)
    slack.fail("chat.postMessage", status=429, retry_after=1)
    client = WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    report = Sender(database, SlackTransport(client), settings=FAST).drain(timeout=10)
    assert report.sent == 1
    calls = slack.calls("chat.postMessage")
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 0.99
    assert re.fullmatch(r"\d+\.\d+", str(row(database, 1).message_ts))


def test_what_was_sent_long_ago_is_deleted_and_failures_are_kept(database: Database) -> None:
    old, recent, failed = put(database, 3, channel=lambda n: f"C{n}")
    now = utcnow()
    with database.transaction() as session:
        rows = {r.id: r for r in session.scalars(select(OutboxMessage))}
        queue.mark_sent([rows[old]], now=now - dt.timedelta(days=8), message_ts="1.1")
        queue.mark_sent([rows[recent]], now=now - dt.timedelta(days=1), message_ts="1.2")
        queue.mark_failed([rows[failed]], now=now - dt.timedelta(days=30), reason="is_archived")
    sender = Sender(database, ScriptedTransport(lambda _o, _n: None), settings=FAST)
    sender.drain(timeout=2)  # its first claim also purges
    with database.reading() as session:
        left = set(session.scalars(select(OutboxMessage.id)))
    assert left == {recent, failed}
