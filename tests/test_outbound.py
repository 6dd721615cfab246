"""The outbound side's wiring: every `OutboxKind` has one feature's handler, a waiting row of a
kind nothing handles is never silent (a WARNING within the minute, `missionbot outbox`), every
send is logged with its kind and subject, and handlers take `now` from the sender's clock."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from bot.cli import UNKNOWN_KIND, main
from bot.daily.schedule import WEEKDAYS, ScheduleRequest
from bot.daily.subscriptions import subscribe
from bot.db.engine import Database
from bot.db.models import OutboxMessage, ScheduledPost
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind, subject_label
from bot.outbox.queue import Status
from bot.outbox.sender import Handler, Outgoing, Sender, SenderSettings, SendResult, Sent
from bot.slack.outbound import FEATURES, create_sender, register_handlers
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import BEN, DANA, kudos_rows, outbox_settled

SENDER_LOG = "bot.outbox.sender"
RETIRED = "retired_kind"  # a kind some other version of the bot queued
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


class Recorder:
    """A transport that takes everything: these tests are about what is claimed and logged."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, outgoing: Outgoing) -> SendResult:
        self.sent.append(outgoing)
        return Sent(ts="1700000000.000100", channel_id=outgoing.channel_id)


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def queue_row(database: Database, kind: str, channel: str = "C1") -> int:
    with database.transaction() as session:
        return queue.enqueue(
            session, team_id=TEAM_ID, kind=kind, channel_id=channel, text="hi", now=T0
        ).id  # type: ignore[arg-type]


def warnings_about(caplog: pytest.LogCaptureFixture, kind: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == SENDER_LOG
        and r.levelno == logging.WARNING
        and f"kind={kind} " in r.getMessage()
    ]


# -- one handler per kind ---------------------------------------------------------------------
class Registrations:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    def register(self, kind: OutboxKind, handler: Handler, **_: object) -> None:
        self.kinds.append(kind)


def test_every_kind_of_message_has_a_handler_from_exactly_one_feature(database: Database) -> None:
    registered = Registrations()
    for feature in FEATURES:
        feature.register(registered)  # type: ignore[arg-type]
    assert len(registered.kinds) == len(set(registered.kinds))
    # The sender itself sends the stored-body kind; the features register all the others.
    assert set(registered.kinds) == set(OutboxKind) - {OutboxKind.MESSAGE}
    sender = Sender(database, Recorder())
    register_handlers(sender)
    assert set(sender.handlers) == set(OutboxKind)


# -- a kind nothing handles ---------------------------------------------------------------------
def test_a_waiting_row_of_an_unknown_kind_is_warned_about_once_per_kind_within_a_minute(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=SENDER_LOG)
    stranded = queue_row(database, RETIRED)
    known = queue_row(database, OutboxKind.SHARED_REPORT, channel="C2")
    monotonic = Clock()
    transport = Recorder()
    sender = Sender(
        database, transport, settings=SenderSettings(channel_interval=0), monotonic=monotonic
    )
    register_handlers(sender)
    assert sender.SWEEP_EVERY_S <= 60

    assert sender.drain(timeout=5).sent == 1  # the known kind goes out; the other waits
    [warning] = warnings_about(caplog, RETIRED)
    assert f"1 message(s) of kind={RETIRED} " in warning
    assert f"oldest #{stranded}" in warning
    assert "missionbot outbox" in warning
    assert [o.channel_id for o in transport.sent] == ["C2"]

    # Later sweeps: the same kind is not warned about again; a new one is, by the next sweep.
    queue_row(database, RETIRED)
    queue_row(database, "another_retired_kind")
    sender.drain(timeout=1)
    assert warnings_about(caplog, "another_retired_kind") == []
    monotonic.now += sender.SWEEP_EVERY_S
    sender.drain(timeout=1)
    assert len(warnings_about(caplog, RETIRED)) == 1
    assert len(warnings_about(caplog, "another_retired_kind")) == 1
    with database.reading() as session:
        waiting = session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.kind != OutboxKind.SHARED_REPORT)
        ).all()
        sent = session.get(OutboxMessage, known)
    assert list(waiting) == [Status.PENDING] * 3  # untouched: a version that knows them sends them
    assert sent is not None
    assert sent.status == Status.SENT


def test_missionbot_outbox_flags_an_unknown_kind_and_exits_non_zero(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database.url)
    queue_row(database, OutboxKind.KUDOS_DM, channel="U1")
    assert main(["outbox"]) == 0
    assert UNKNOWN_KIND not in capsys.readouterr().out
    first = queue_row(database, RETIRED)
    queue_row(database, RETIRED)

    assert main(["outbox"]) == 1
    lines = capsys.readouterr().out.splitlines()
    [flagged] = [line for line in lines if line.startswith(RETIRED)]
    assert flagged.split()[:6] == [RETIRED, "2", "0", "0", "0", "0"]
    assert flagged.endswith(UNKNOWN_KIND)
    [dm] = [line for line in lines if line.startswith("kudos_dm")]
    assert UNKNOWN_KIND not in dm
    assert f"  {RETIRED}: 2 waiting, the oldest #{first} queued 2026-11-23 09:00:00Z" in lines
    # Another team's outbox has nothing stuck.
    assert main(["outbox", "--team", "T0SOMEONEELSE"]) == 0


# -- the send log ---------------------------------------------------------------------------------
def sent_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == SENDER_LOG and r.getMessage().startswith("outbox sent ")
    ]


def test_every_send_is_logged_with_its_kind_subject_channel_and_ts(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SENDER_LOG)
    bot.command("/kudos", f"<@{DANA}> <@{BEN}> #plain-words rewrote the delay notice")
    outbox_settled(bot.database)
    [kudos, _] = kudos_rows(bot.database)
    subject = f"subject=kudos:{kudos.group_id} team={TEAM_ID}"
    lines = sent_lines(caplog)
    [announcement] = [line for line in lines if "kind=kudos_announcement " in line]
    assert f"{subject} channel=CGENERAL01 ts={kudos.public_message_ts} " in announcement
    dms = sorted(line for line in lines if "kind=kudos_dm " in line)
    assert len(dms) == 2
    for dm, receiver in zip(dms, sorted([BEN, DANA]), strict=True):
        assert f"{subject} channel={receiver} ts=" in dm


@pytest.mark.parametrize(
    ("kind", "subject", "thread_ts", "label"),
    [
        (OutboxKind.KUDOS_EDIT, "group-1", None, "kudos:group-1"),
        (OutboxKind.REACTION_THREAD, None, "1700000000.000100", "message:C1/1700000000.000100"),
        (OutboxKind.REACTION_DM, "C1/1700000000.000100", None, "message:C1/1700000000.000100"),
        # A digest's chart, in the digest's thread: the digest's claim.
        (OutboxKind.DIGEST_CHART, "42", "1700000000.000200", "post:42"),
        # The note after an export: the export's row.
        (OutboxKind.COMMAND_REPLY, "7", None, "outbox:7"),
        (OutboxKind.COMMAND_REPLY, None, None, "outbox:9"),
        (OutboxKind.SHARED_REPORT, None, None, "outbox:9"),
        (OutboxKind.MESSAGE, "onboarding:U1", None, "onboarding:U1"),
    ],
)
def test_the_send_log_names_what_each_kind_of_row_is_about(
    kind: OutboxKind, subject: str | None, thread_ts: str | None, label: str
) -> None:
    row = OutboxMessage(id=9, kind=kind, channel_id="C1", subject=subject, thread_ts=thread_ts)
    assert subject_label(row) == label


def test_a_failed_send_is_logged_with_its_kind_and_subject(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SENDER_LOG)
    slack.fail("chat.postMessage", error="is_archived", times=None)
    bot.command("/kudos", f"<@{DANA}> #plain-words rewrote the delay notice")
    outbox_settled(bot.database)
    [kudos] = kudos_rows(bot.database)
    [failed] = warnings_about(caplog, "kudos_announcement")
    assert failed.startswith(
        f"outbox failed kind=kudos_announcement subject=kudos:{kudos.group_id} "
    )
    assert "channel=CGENERAL01" in failed
    assert failed.endswith(": is_archived")


# -- handlers' clock ------------------------------------------------------------------------------
def test_a_handler_records_at_the_senders_time_not_the_wall_clock(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SENDER_LOG)
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    with bot.database.transaction() as session:
        subscribe(
            session=session,
            team_id=TEAM_ID,
            channel_id="CMORNING1",
            user_id="UANA0001",
            request=ScheduleRequest("09:00", WEEKDAYS, "UTC"),
            default_timezone=None,
            now=T0 - dt.timedelta(days=30),
        )
    assert bot.runtime.sender is not None
    bot.runtime.sender.stop()  # this test's sender, on its own clock, sends the post
    with time_machine.travel(T0):
        [queued] = bot.runtime.scheduler.run_due()
    later = T0 + dt.timedelta(minutes=7)
    sender = create_sender(bot.runtime.settings, bot.database, clock=lambda: later)
    assert sender.drain(timeout=10).sent == 1
    with bot.database.reading() as session:
        claim = session.get(ScheduledPost, queued.post_id)
    assert claim is not None
    assert (claim.status, claim.updated_at) == ("sent", later)
    [line] = [line for line in sent_lines(caplog) if "kind=daily_post " in line]
    assert (
        f"subject=post:{claim.id} team={TEAM_ID} channel=CMORNING1 ts={claim.message_ts} " in line
    )
