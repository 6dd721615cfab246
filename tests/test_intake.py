"""Requests in flight (bot/intake.py): counted from when the server has read them until they
are answered, and a held announcement waits for those received before its time."""

from __future__ import annotations

import datetime as dt
import http.client
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from waitress.server import create_server

from bot.db.engine import Database
from bot.db.models import OutboxMessage, utcnow
from bot.intake import Intake
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.queue import Status
from bot.outbox.sender import Outgoing, Sender, SenderSettings, SendResult, Sent
from bot.runtime import count_requests

SLACK = "/slack/events"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class Ticking:
    """A clock and a monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def now(self) -> dt.datetime:
        return T0 + dt.timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        return self.seconds


def test_settled_is_now_until_a_request_is_in_flight_then_when_the_oldest_arrived() -> None:
    time_ = Ticking()
    intake = Intake(clock=time_.now, monotonic=time_.monotonic, paths={SLACK})
    assert intake.settled(T0) == T0
    first = intake.received(SLACK)
    time_.seconds = 1
    second = intake.received(SLACK)
    later = T0 + dt.timedelta(seconds=5)
    assert intake.settled(later) == T0
    intake.answered(first)
    assert intake.settled(later) == T0 + dt.timedelta(seconds=1)
    intake.answered(second)
    assert intake.settled(later) == later
    assert intake.in_flight() == 0


def test_only_slacks_requests_count() -> None:
    intake = Intake(paths={SLACK})
    assert intake.received("/healthz") is None
    assert intake.received("/dashboard/people?period=week") is None
    assert intake.received(f"{SLACK}?retry=1") is not None
    intake.answered(None)
    assert intake.in_flight() == 1


def test_a_request_stuck_past_patience_stops_holding_announcements(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time_ = Ticking()
    intake = Intake(clock=time_.now, monotonic=time_.monotonic, paths={SLACK}, patience=30)
    intake.received(SLACK)
    time_.seconds = 29
    assert intake.settled(time_.now()) == T0
    time_.seconds = 31
    assert intake.settled(time_.now()) == time_.now()
    assert "no longer holds announcements back" in caplog.text


@pytest.fixture
def waitress_counting() -> Iterator[tuple[Intake, threading.Event, int]]:
    """waitress on one request thread, counting in an intake; its app waits to be released."""
    intake = Intake(paths={SLACK})
    release = threading.Event()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"] == SLACK:
            release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server: Any = create_server(app, host="127.0.0.1", port=0, threads=1)
    count_requests(server, intake)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield intake, release, int(server.effective_port)
    release.set()
    server.close()
    thread.join(timeout=5)


def _post(port: int, path: str, answers: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
    answers.append(connection.getresponse().status)
    connection.close()


def _wait(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_waitress_counts_a_request_while_it_waits_for_a_thread_until_it_is_answered(
    waitress_counting: tuple[Intake, threading.Event, int],
) -> None:
    intake, release, port = waitress_counting
    answers: list[int] = []
    clients = [threading.Thread(target=_post, args=(port, SLACK, answers)) for _ in range(3)]
    for client in clients:
        client.start()
    # One request thread: one request being served, two waiting in waitress's queue.
    _wait(lambda: intake.in_flight() == 3)
    # Another path (a health check, a dashboard page) waits its turn too, uncounted.
    clients.append(threading.Thread(target=_post, args=(port, "/healthz", answers)))
    clients[-1].start()
    time.sleep(0.2)
    assert intake.in_flight() == 3
    release.set()
    for client in clients:
        client.join(timeout=10)
    assert answers.count(200) == 4
    _wait(lambda: intake.in_flight() == 0)


class Recording:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, outgoing: Outgoing) -> SendResult:
        self.sent.append(outgoing.text)
        return Sent(ts="1700000000.000100", channel_id=outgoing.channel_id)


def test_a_held_message_waits_for_the_requests_received_before_its_time(
    database: Database,
) -> None:
    intake = Intake()
    transport = Recording()
    sender = Sender(
        database, transport, settings=SenderSettings(workers=1, poll=0.05), settled=intake.settled
    )
    # An undoing received before the hold ends, and still being handled after it.
    ticket = intake.received()
    now = utcnow()
    held_until = now + dt.timedelta(seconds=0.2)
    with database.transaction() as session:
        queue.enqueue(
            session,
            team_id="T1",
            kind=OutboxKind.MESSAGE,
            channel_id="C1",
            text="held",
            now=now,
            not_before=held_until,
        )
        queue.enqueue(
            session,
            team_id="T1",
            kind=OutboxKind.MESSAGE,
            channel_id="C2",
            text="unheld",
            now=now,
        )
    while utcnow() <= held_until:
        time.sleep(0.05)
    sender.drain(timeout=0.5, retries=False)
    assert transport.sent == ["unheld"]
    intake.answered(ticket)
    sender.drain(timeout=5, retries=False)
    assert transport.sent == ["unheld", "held"]
    with database.reading() as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {Status.SENT}


def test_a_request_received_after_the_hold_ended_does_not_delay_it(database: Database) -> None:
    intake = Intake()
    transport = Recording()
    sender = Sender(database, transport, settings=SenderSettings(workers=1), settled=intake.settled)
    now = utcnow()
    with database.transaction() as session:
        queue.enqueue(
            session,
            team_id="T1",
            kind=OutboxKind.MESSAGE,
            channel_id="C1",
            text="held",
            now=now - dt.timedelta(seconds=3),
            not_before=now - dt.timedelta(seconds=1),
        )
    ticket = intake.received()
    assert sender.drain(timeout=5, retries=False).sent == 1
    assert transport.sent == ["held"]
    intake.answered(ticket)
