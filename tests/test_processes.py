"""Real `missionbot serve` processes: two on one PostgreSQL through a morning, and `kill -9`.

These start the bot as README deploys it, in child processes aimed at the fake Slack.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import example_mission_file
from bot.daily.schedule import WEEKDAYS, ScheduleRequest
from bot.daily.subscriptions import subscribe
from bot.db.engine import Database
from bot.db.models import OutboxMessage, ScheduledPost
from bot.mission.file import load_mission_file
from bot.mission.service import MissionKeeper
from bot.simulator.process import listens_on
from tests.support.fake_slack import TEAM_ID, Call, FakeSlack
from tests.support.kudos import DANA, kudos_rows, outbox_settled
from tests.support.serve_process import ServeProcess

LONG_AGO = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
REFRESH_S = 1  # MISSIONBOT_SCHEDULE_REFRESH_SECONDS: the sweep runs every second


@pytest.fixture
def spawn(
    database: Database, slack: FakeSlack, tmp_path: Path
) -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def start(**env: str | int) -> ServeProcess:
        process = ServeProcess(database.url, slack, tmp_path, **env)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


def subscribe_now(database: Database, channels: list[str]) -> None:
    """Subscribe the channels for the current UTC minute: their post is due from now on."""
    now = dt.datetime.now(dt.UTC)
    request = ScheduleRequest(f"{now:%H:%M}", WEEKDAYS, "UTC")
    with database.transaction() as session:
        for channel in channels:
            subscribe(
                session=session,
                team_id=TEAM_ID,
                channel_id=channel,
                user_id="UANA0001",
                request=request,
                default_timezone=None,
                now=LONG_AGO,
            )


def posts_per_channel(slack: FakeSlack) -> Counter[str]:
    return Counter(str(call["channel"]) for call in slack.calls("chat.postMessage"))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_processes_post_once_per_channel_and_both_answer_commands(
    database: Database, slack: FakeSlack, spawn: Callable[..., ServeProcess]
) -> None:
    MissionKeeper(load_mission_file(example_mission_file())).ensure_synced(database, TEAM_ID)
    at_start = [f"CSTART{n:03d}" for n in range(15)]
    later = [f"CLATER{n:03d}" for n in range(15)]
    # Due before either process starts: both catch up at once and race for every post.
    subscribe_now(database, at_start)
    first, second = (spawn(missionbot_schedule_refresh_seconds=REFRESH_S) for _ in range(2))
    # Due while both run: each process's refresh sweep finds them within REFRESH_S.
    subscribe_now(database, later)

    slack.wait_for("chat.postMessage", count=len(at_start + later), timeout=60)
    time.sleep(2 * REFRESH_S)  # more sweeps by each process: still nothing sent twice
    assert posts_per_channel(slack) == dict.fromkeys(at_start + later, 1)
    with database.transaction() as session:
        statuses = Counter(session.scalars(select(ScheduledPost.status)))
    assert statuses == {"sent": len(at_start + later)}

    for process in (first, second):
        reply = process.client().answer("/mission")
        assert reply.status == 200
        assert "Say it in plain words" in reply.text


def test_every_kudos_acknowledged_before_kill_9_is_in_the_database_after_restart(
    database: Database, slack: FakeSlack, spawn: Callable[..., ServeProcess]
) -> None:
    # Slack's answers awaited briefly, so that a lease the killed process held runs out soon.
    server = spawn(slack_api_timeout=2)
    client = server.client()
    acknowledged: list[str] = []
    lock = threading.Lock()
    numbers = itertools.count()
    stop = threading.Event()

    def give_kudos() -> None:
        while not stop.is_set():
            n = next(numbers)
            message = f"burst {n}"
            try:
                # Eight receivers: their DMs go out in parallel (one DM channel is paced at
                # 1/s), so the backlog a kill leaves is sent within the test's wait.
                receiver = f"URECEIVE{n % 8}"
                reply = client.command(
                    "/kudos", f"<@{receiver}> #plain-words {message}", user=f"UGIVER{n:04d}"
                )
            except OSError:
                return  # the server is gone
            # The kudos ack carries the confirmation; a refusal or "try again" says otherwise.
            if reply.status == 200 and "Kudos recorded" in reply.text:
                with lock:
                    acknowledged.append(message)

    threads = [threading.Thread(target=give_kudos, daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 30 and time.monotonic() < deadline:
        time.sleep(0.02)
    # Killed outside the one moment README names for a duplicate (between Slack's answer and
    # the write that records it): just after a post to #general came back and was recorded,
    # while the channel waits out its second before the next, with announcements still queued
    # behind it. (Timing alone is not enough: on a busy machine the record can lag the answer.)
    deadline = time.monotonic() + 30
    while True:
        answered = [c.answered for c in general_posts(slack) if c.answered and not c.failed]
        if (
            answered
            and 0.3 <= time.monotonic() - max(answered) <= 0.6
            and recorded_general_posts(database) == len(answered)
        ):
            break
        assert time.monotonic() < deadline, "no recorded announcement in #general within 30 s"
        time.sleep(0.01)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    assert len(acknowledged) >= 30

    restarted = spawn(slack_api_timeout=2)
    recorded = {k.message for k in kudos_rows(database)}
    assert set(acknowledged) <= recorded
    reply = restarted.client().answer("/kudos", f"<@{DANA}|dana> #plain-words after")
    assert "Kudos recorded" in reply.text
    # What was queued when the first process died goes out from the second, each once (a
    # row leased by the dead process waits out its lease first).
    outbox_settled(database, timeout=90)
    shown = markers_in_general(slack, r"burst \d+")
    assert set(shown) == recorded - {"after"}
    assert set(shown.values()) == {1}


def test_a_message_slack_took_as_its_process_died_goes_out_again_once_after_its_lease(
    database: Database, slack: FakeSlack, spawn: Callable[..., ServeProcess]
) -> None:
    """README's one window for a duplicate, hit on purpose: Slack has taken the announcement
    and the DM (the calls arrived) but its answers have not come back when the process dies.
    Their rows stay `sending` under the dead process's lease; once it runs out the restarted
    process sends each again, once: a message is never lost, and sent at most twice."""
    # Slack's answers awaited 10 s (the kill comes well before, however busy the machine),
    # the lease a second more: the killed sends are taken again soon after.
    timeouts = {"slack_api_timeout": 10, "missionbot_outbox_lease_seconds": 11}
    server = spawn(**timeouts)
    slack.slow("chat.postMessage", 20, times=2)  # taken at once, answered long after the kill
    reply = server.client().answer("/kudos", f"<@{DANA}|dana> #plain-words mid-send")
    assert "Kudos recorded" in reply.text
    slack.wait_for("chat.postMessage", count=2, timeout=30)
    server.kill()
    with database.reading() as session:
        leases = session.execute(select(OutboxMessage.status, OutboxMessage.lease_until)).all()
    assert {status for status, _ in leases} == {"sending"}
    # When the first lease runs out, on the simulator's clock (monotonic).
    lease_over = (
        time.monotonic()
        + (min(until for _, until in leases if until) - dt.datetime.now(dt.UTC)).total_seconds()
    )

    spawn(**timeouts)
    outbox_settled(database, timeout=60)
    assert markers_in_general(slack, r"mid-send") == Counter({"mid-send": 2})
    dms = [c for c in slack.calls("chat.postMessage") if c["channel"] == DANA]
    assert len(dms) == 2
    # Sent again only once the dead process's lease had run out, not taken from it at once.
    again = slack.calls("chat.postMessage")[2:]
    assert len(again) == 2
    assert min(call.at for call in again) >= lease_over - 0.5
    with database.reading() as session:
        rows = session.execute(select(OutboxMessage.status, OutboxMessage.message_ts)).all()
    assert [status for status, _ in rows] == ["sent", "sent"]
    assert all(ts for _, ts in rows)


def recorded_general_posts(database: Database) -> int:
    """How many #general posts the outbox has recorded as sent (coalesced rows share one)."""
    with database.reading() as session:
        return int(
            session.scalar(
                select(func.count(func.distinct(OutboxMessage.message_ts))).where(
                    OutboxMessage.channel_id == "CGENERAL01", OutboxMessage.message_ts.is_not(None)
                )
            )
            or 0
        )


def in_general(call: Call) -> bool:
    return bool(call["channel"] == "CGENERAL01")


def general_posts(slack: FakeSlack) -> list[Call]:
    return [call for call in slack.calls("chat.postMessage") if in_general(call)]


def markers_in_general(slack: FakeSlack, pattern: str) -> Counter[str]:
    """How many #general messages each kudos marker appeared in (coalesced ones carry several)."""
    return Counter(
        marker
        for call in slack.calls("chat.postMessage")
        if call["channel"] == "CGENERAL01"
        for marker in set(re.findall(pattern, json.dumps(call.params)))
    )


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_processes_draining_one_outbox_announce_each_of_100_kudos_once(
    database: Database, slack: FakeSlack, spawn: Callable[..., ServeProcess]
) -> None:
    processes = [spawn(), spawn()]
    clients = [process.client() for process in processes]

    def give(n: int) -> str:
        client = clients[n % 2]  # half the kudos reach each process
        reply = client.answer(
            "/kudos", f"<@{DANA}|dana> #plain-words twin-{n:03d}", user=f"UTWIN{n:04d}"
        )
        return reply.text

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(give, range(100)))
    assert [reply for reply in replies if "Kudos recorded" not in reply] == []
    outbox_settled(database, timeout=60)
    shown = markers_in_general(slack, r"twin-\d{3}")
    assert shown == Counter({f"twin-{n:03d}": 1 for n in range(100)})
    dms = [c for c in slack.calls("chat.postMessage") if c["channel"] == DANA]
    assert len(dms) == 100


def test_a_serve_process_whose_port_was_taken_meanwhile_moves_to_another(
    database: Database, slack: FakeSlack, tmp_path: Path
) -> None:
    """Six workers find free ports at once: another process can take this one's before it
    binds it. That one's /healthz then answered for it (a kudos test read another test's
    "You already gave this kudos"); now a process is ready only on a port it listens on."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        process = ServeProcess(database.url, slack, tmp_path)
        process.use_port(taken)
        try:
            process.start()
            assert process.port != taken
            assert listens_on(process.process.pid, process.port)  # type: ignore[union-attr]
            assert not listens_on(process.process.pid, taken)  # type: ignore[union-attr]
            reply = process.client().answer("/mission")
            assert reply.status == 200
            assert "We move our customers' goods" in reply.text
        finally:
            process.stop()
