"""Everything the bot sends on its own goes through the outbox: morning posts (through crashes
and `missionbot post-today`), weekly digests, shared leaderboards and export DMs are rows in
the table, visible to `missionbot outbox`, and are delivered."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from bot.cli import main
from bot.daily.claims import PostKind
from bot.daily.flows import OUTBOX_KINDS, Outcome
from bot.daily.schedule import WEEKDAYS, ScheduleRequest
from bot.daily.subscriptions import subscribe
from bot.db.engine import Database
from bot.db.models import OutboxMessage, ScheduledPost
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.queue import Status
from bot.slack.outbound import create_sender
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import outbox_settled
from tests.support.serve_process import ServeProcess

NINE = dt.datetime(2026, 1, 13, 9, 0, tzinfo=ZoneInfo("UTC"))
LONG_AGO = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
ADMIN = "UADMIN001"
MORNING_POST = OUTBOX_KINDS[PostKind.DAILY]


def subscribe_channels(
    database: Database, channels: list[str], post_time: str = "09:00", **options: bool
) -> None:
    with database.transaction() as session:
        for channel in channels:
            subscribe(
                session=session,
                team_id=TEAM_ID,
                channel_id=channel,
                user_id="UANA0001",
                request=ScheduleRequest(post_time, WEEKDAYS, "UTC", **options),
                default_timezone=None,
                now=LONG_AGO,
            )


def rows_of(database: Database, kind: str) -> list[OutboxMessage]:
    with database.reading() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            )
        )


def claims(database: Database) -> list[ScheduledPost]:
    with database.reading() as session:
        return list(session.scalars(select(ScheduledPost).order_by(ScheduledPost.id)))


def accepted_posts(slack: FakeSlack) -> Counter[str]:
    """Posts Slack accepted, per channel (a call answered with an error is no post)."""
    return Counter(str(c["channel"]) for c in slack.calls("chat.postMessage") if not c.failed)


def outbox_table(capsys: pytest.CaptureFixture[str]) -> dict[str, list[str]]:
    """`missionbot outbox`'s table: kind → its counts (pending, sending, sent, failed, …)."""
    assert main(["outbox"]) == 0
    lines = capsys.readouterr().out.splitlines()
    return {line.split()[0]: line.split()[1:6] for line in lines[1:] if line.strip()}


@pytest.fixture
def cli_env(bot: Bot, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("DATABASE_URL", bot.database.url)


# -- morning posts ---------------------------------------------------------------------------------
def test_a_morning_post_is_queued_with_its_claim_and_its_body_drawn_then(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    subscribe_channels(bot.database, ["CQUEUE001"])
    assert bot.runtime.sender is not None
    bot.runtime.sender.stop()  # nothing sends: what the claim left behind stays to be read
    with time_machine.travel(NINE):
        [result] = bot.runtime.scheduler.run_due()
    assert result.outcome == Outcome.QUEUED
    [row] = rows_of(bot.database, MORNING_POST)
    [claim] = claims(bot.database)
    assert (row.status, row.subject, row.channel_id) == ("pending", str(claim.id), "CQUEUE001")
    assert claim.status == "sending"
    assert claim.principle_id is not None
    body = queue.stored_body(row)
    assert body is not None
    assert body["text"].startswith("Principle of the day:")
    assert slack.calls("chat.postMessage") == []


def test_a_morning_post_claimed_by_a_sender_that_died_is_posted_once_after_its_lease(
    bot: Bot, slack: FakeSlack, db_url: str
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    subscribe_channels(bot.database, ["CCRASH001"])
    assert bot.runtime.sender is not None
    bot.runtime.sender.stop()
    lease = dt.timedelta(seconds=60)
    with time_machine.travel(NINE, tick=False):
        [queued] = bot.runtime.scheduler.run_due()
        # A process claims it and dies before Slack has it: the row stays leased to the dead.
        with bot.database.transaction() as session:
            [[row]] = queue.claim(
                session, owner="killed-9", now=NINE, lease=lease, kinds=[MORNING_POST]
            )
    assert row.status == Status.SENDING
    next_process = Database(db_url)
    try:
        successor = create_sender(bot.runtime.settings, next_process)
        with time_machine.travel(NINE + lease - dt.timedelta(seconds=1), tick=False):
            assert successor.drain(timeout=1).sent == 0  # the lease still holds
        assert slack.calls("chat.postMessage") == []
        with time_machine.travel(NINE + lease + dt.timedelta(seconds=1), tick=False):
            assert successor.drain(timeout=5).sent == 1
            [result] = bot.runtime.scheduler.settle([queued], timeout=5)
            assert successor.drain(timeout=1).sent == 0
    finally:
        next_process.dispose()
    assert result.outcome == Outcome.SENT
    assert accepted_posts(slack) == {"CCRASH001": 1}
    [claim] = claims(bot.database)
    # Two claims of the row: the dead process's and its successor's.
    assert (claim.status, claim.attempts, claim.message_ts) == ("sent", 2, result.message_ts)


def test_a_morning_post_is_retried_when_its_process_is_killed_mid_send(
    database: Database, slack: FakeSlack, tmp_path: Path
) -> None:
    """Real `missionbot serve` processes: the first is killed (SIGKILL) while its posts wait on
    Slack, which never accepted them; the next one posts each once, after the lease."""
    from bot.config import example_mission_file
    from bot.mission.file import load_mission_file
    from bot.mission.service import MissionKeeper

    MissionKeeper(load_mission_file(example_mission_file())).ensure_synced(database, TEAM_ID)
    channels = [f"CKILL{n:04d}" for n in range(3)]
    # Slack hangs and then fails every post, so that the first process is mid-send when killed.
    slack.fail("chat.postMessage", status=503, delay=30, times=None)
    now = dt.datetime.now(dt.UTC)
    subscribe_channels(database, channels, post_time=f"{now:%H:%M}")
    # The first process is killed as soon as its posts reach Slack (its catch-up may post them
    # before it answers /healthz), well within their timeout (10 s: still waiting on Slack,
    # however slowly a busy machine brings the three posts there); its lease runs out a second
    # after that rather than after the default 30 s.
    timeouts = {"slack_api_timeout": 10, "missionbot_outbox_lease_seconds": 11}
    processes: list[ServeProcess] = []
    try:
        first = ServeProcess(database.url, slack, tmp_path, **timeouts)
        processes.append(first)
        first.start(ready=lambda: len(slack.calls("chat.postMessage")) >= len(channels))
        first.kill()
        slack.recover()
        assert {row.status for row in rows_of(database, MORNING_POST)} == {"sending"}
        second = ServeProcess(database.url, slack, tmp_path, **timeouts).start()
        processes.append(second)
        outbox_settled(database, timeout=60)
    finally:
        for process in processes:
            process.stop()
    assert accepted_posts(slack) == dict.fromkeys(channels, 1)
    assert [claim.status for claim in claims(database)] == ["sent"] * len(channels)


@pytest.mark.usefixtures("cli_env")
def test_post_today_sends_its_posts_and_returns_when_they_are_sent(
    bot: Bot, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    channels = [f"CTODAY{n:03d}" for n in range(5)]
    subscribe_channels(bot.database, channels)
    assert bot.runtime.sender is not None
    bot.runtime.sender.stop()  # no `serve` running: post-today sends them itself
    slack.slow("chat.postMessage", 0.3)
    with time_machine.travel(NINE):
        assert main(["post-today"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{c} 2026-01-13: sent" for c in channels]
    # Every post was in Slack when the command returned, each once.
    assert accepted_posts(slack) == dict.fromkeys(channels, 1)
    assert {row.status for row in rows_of(bot.database, MORNING_POST)} == {"sent"}
    assert outbox_table(capsys)[MORNING_POST] == ["0", "0", "5", "0", "0"]


@pytest.mark.usefixtures("cli_env")
def test_post_today_reports_a_channel_it_cannot_post_in_as_paused(
    bot: Bot, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    subscribe_channels(bot.database, ["CGONE0001"])
    slack.fail("chat.postMessage", error="account_inactive")
    with time_machine.travel(NINE):
        assert main(["post-today"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "CGONE0001 2026-01-13: paused (account_inactive)"
    ]
    assert outbox_table(capsys)[MORNING_POST] == ["0", "0", "0", "1", "0"]


# -- the weekly digest, shared reports, exports --------------------------------------------------
def test_the_weekly_digest_goes_through_the_outbox(
    bot: Bot, slack: FakeSlack, capsys: pytest.CaptureFixture[str], cli_env: None
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    subscribe_channels(bot.database, ["CDIGEST01"], digest=True)
    monday = dt.datetime(2026, 1, 19, 9, 0, tzinfo=dt.UTC)
    scheduler = bot.runtime.scheduler
    with time_machine.travel(monday):
        results = scheduler.settle(scheduler.run_due())
    assert sorted((r.kind, r.outcome) for r in results) == [
        ("daily", Outcome.SENT),
        ("digest", Outcome.SENT),
    ]
    [digest] = rows_of(bot.database, OUTBOX_KINDS[PostKind.DIGEST])
    assert digest.status == "sent"
    texts = [c["text"] for c in slack.calls("chat.postMessage") if c["channel"] == "CDIGEST01"]
    assert len(texts) == 2
    assert any("Last week in kudos" in text for text in texts)
    assert outbox_table(capsys)["weekly_digest"] == ["0", "0", "1", "0", "0"]


@pytest.mark.usefixtures("cli_env")
def test_a_shared_leaderboard_and_an_export_go_through_the_outbox(
    bot: Bot, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    slack.add_user(ADMIN, is_admin=True)
    shared = bot.command("/kudos", "leaderboard share", user=ADMIN)
    assert shared.json["response_type"] == "ephemeral"
    exported = bot.command("/kudos", "export", user=ADMIN)
    assert "I'll DM you the CSV" in exported.text
    [post] = slack.wait_for("chat.postMessage")
    assert "shared by" in json.dumps(post.params)
    slack.wait_for("files.completeUploadExternal")
    [note] = slack.wait_for("response_url", where=lambda c: "CSV file" in str(c.get("text")))
    assert note["response_type"] == "ephemeral"
    outbox_settled(bot.database)
    table = outbox_table(capsys)
    for kind in (OutboxKind.SHARED_REPORT, OutboxKind.EXPORT_DM, OutboxKind.COMMAND_REPLY):
        assert table[kind] == ["0", "0", "1", "0", "0"], kind


def test_a_shared_leaderboard_where_the_bot_is_not_a_member_goes_through_the_command(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    slack.add_user(ADMIN, is_admin=True)
    slack.fail("chat.postMessage", error="not_in_channel")
    bot.command("/kudos", "leaderboard share", user=ADMIN)
    [posted] = slack.wait_for("response_url", where=lambda c: "shared by" in json.dumps(c.params))
    assert posted["response_type"] == "in_channel"
    outbox_settled(bot.database)
    [row] = rows_of(bot.database, OutboxKind.SHARED_REPORT)
    assert row.status == "sent"
