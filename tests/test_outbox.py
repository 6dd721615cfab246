"""The outbox queue (claims, leases, cancel, status), the Slack transport against the fake Slack
Web API, and `missionbot outbox` for operators."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.cli import main
from bot.db.engine import Database
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.queue import Status
from bot.outbox.sender import Outgoing, RateLimited, Refused, Retryable, Sent
from bot.slack.transport import SlackTransport
from tests.support.fake_slack import FakeSlack

TEAM = "T0TIDEWATER"
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)


def add(database: Database, channel: str, subject: str, **fields: object) -> int:
    with database.transaction() as session:
        row = queue.enqueue(
            session,
            team_id=TEAM,
            kind=str(fields.pop("kind", "joined")),
            channel_id=channel,
            subject=subject,
            now=T0,
            **fields,  # type: ignore[arg-type]
        )
        return row.id


def claim(database: Database, owner: str, now: dt.datetime, **options: object) -> list[str]:
    with database.transaction() as session:
        groups = queue.claim(
            session,
            owner=owner,
            now=now,
            lease=LEASE,
            kinds=["joined", OutboxKind.MESSAGE],
            **options,  # type: ignore[arg-type]
        )
        return [str(row.subject) for rows in groups for row in rows]


# -- the queue ----------------------------------------------------------------------------------
def test_a_claim_takes_the_oldest_due_row_and_its_siblings_up_to_the_cap(
    database: Database,
) -> None:
    for n in range(5):
        add(database, "C1", f"a{n}")
    add(database, "C2", "b0")
    add(database, "C1", "a-later", not_before=T0 + dt.timedelta(minutes=5))
    add(database, "C1", "a-thread", thread_ts="1700000000.000100")
    assert claim(database, "one", T0, coalesce={"joined": 3}) == ["a0", "a1", "a2"]
    # C1 is now leased to "one": another sender leaves the channel alone.
    assert claim(database, "two", T0, coalesce={"joined": 3}) == ["b0"]
    assert claim(database, "two", T0, coalesce={"joined": 3}) == []


def test_a_claim_skips_busy_channels_and_rate_limited_teams(database: Database) -> None:
    add(database, "C1", "a0")
    add(database, "C2", "b0")
    assert claim(database, "one", T0, exclude_channels=[(TEAM, "C1")]) == ["b0"]
    assert claim(database, "one", T0, exclude_teams=[TEAM]) == []
    assert claim(database, "one", T0) == ["a0"]


def test_a_lease_keeps_a_row_until_it_runs_out(database: Database) -> None:
    row_id = add(database, "C1", "a0")
    assert claim(database, "dead", T0) == ["a0"]
    assert claim(database, "alive", T0 + dt.timedelta(seconds=59)) == []
    assert claim(database, "alive", T0 + dt.timedelta(seconds=61)) == ["a0"]
    with database.transaction() as session:
        assert queue.held(session, [row_id], owner="dead") == []
        [row] = queue.held(session, [row_id], owner="alive")
    assert (row.status, row.attempts) == (Status.SENDING, 2)


def test_cancel_takes_only_pending_rows_of_that_subject(database: Database) -> None:
    add(database, "C1", "g1")
    add(database, "C2", "g1")
    add(database, "C3", "g2")
    claim(database, "one", T0, exclude_channels=[(TEAM, "C1"), (TEAM, "C3")])  # C2's g1
    with database.transaction() as session:
        assert queue.cancel(session, team_id=TEAM, subject="g1", now=T0) == 1
        assert queue.cancel(session, team_id=TEAM, subject="g1", now=T0) == 0
    with database.reading() as session:
        summary = queue.status_summary(session)
    assert summary.counts == {"joined": {"cancelled": 1, "sending": 1, "pending": 1}}


def test_the_status_summary_counts_by_kind_and_lists_failures_newest_first(
    database: Database,
) -> None:
    ids = [add(database, f"C{n}", f"s{n}", kind=OutboxKind.MESSAGE, text="hi") for n in range(3)]
    with database.transaction() as session:
        [rows] = queue.claim(
            session, owner="o", now=T0, lease=LEASE, kinds=[OutboxKind.MESSAGE], coalesce={}
        )
        queue.mark_failed(rows, now=T0, reason="is_archived")
    with database.transaction() as session:
        [rows] = queue.claim(session, owner="o", now=T0, lease=LEASE, kinds=[OutboxKind.MESSAGE])
        queue.mark_failed(rows, now=T0 + dt.timedelta(minutes=1), reason="x" * 300)
    with database.reading() as session:
        summary = queue.status_summary(session)
        assert queue.status_summary(session, team_id="T0OTHER").empty
    assert summary.counts == {"message": {"failed": 2, "pending": 1}}
    assert summary.oldest_pending == {"message": T0}
    assert [f.id for f in summary.failures] == [ids[1], ids[0]]
    assert len(summary.failures[0].reason) == queue.ERROR_LIMIT
    assert summary.failures[1].reason == "is_archived"


# -- the Slack transport ------------------------------------------------------------------------
@pytest.fixture
def transport(slack: FakeSlack) -> SlackTransport:
    return SlackTransport(WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[]))


def outgoing(**fields: str) -> Outgoing:
    return Outgoing(team_id=TEAM, channel_id=fields.pop("channel_id", "C1"), text="hi", **fields)


def test_transport_posts_in_the_thread_and_returns_the_ts(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    result = transport.send(outgoing(thread_ts="1700000000.000100"))
    assert isinstance(result, Sent)
    [call] = slack.calls("chat.postMessage")
    assert call["thread_ts"] == "1700000000.000100"
    assert str(call["unfurl_links"]).lower() == "false"
    assert result.ts is not None
    assert (result.channel_id, result.via_response_url) == ("C1", False)


def test_transport_edits_with_chat_update_when_given_a_ts(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    result = transport.send(outgoing(update_ts="1700000009.000100"))
    assert result == Sent(ts="1700000009.000100", channel_id="C1")
    [call] = slack.calls("chat.update")
    assert call["ts"] == "1700000009.000100"
    assert slack.calls("chat.postMessage") == []


def test_transport_reports_a_429_with_its_retry_after_and_does_not_retry_itself(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=7)
    assert transport.send(outgoing()) == RateLimited(retry_after=7.0)
    assert len(slack.calls("chat.postMessage")) == 1


def test_transport_reports_a_500_as_retryable_and_does_not_retry_itself(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    slack.fail("chat.postMessage", status=500, error="internal_error")
    assert transport.send(outgoing()) == Retryable("Slack answered HTTP 500")
    assert len(slack.calls("chat.postMessage")) == 1


def test_transport_reports_an_unreachable_slack_as_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = WebClient(base_url=f"http://127.0.0.1:{port}/api/", timeout=2, retry_handlers=[])
    result = SlackTransport(client).send(outgoing())
    assert isinstance(result, Retryable)
    assert result.reason.startswith("network error")


def test_transport_posts_through_the_response_url_when_not_in_the_channel(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    slack.channels["C1"] = {"is_member": False}
    result = transport.send(outgoing(response_url=slack.response_url("kudos")))
    assert result == Sent(ts=None, channel_id="C1", via_response_url=True)
    [call] = slack.calls("response_url")
    assert call["response_type"] == "in_channel"
    assert call["text"] == "hi"


def test_transport_refuses_when_not_in_the_channel_and_no_response_url(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    slack.channels["C1"] = {"is_member": False}
    assert transport.send(outgoing()) == Refused("not_in_channel")
    slack.channels["G1"] = {"is_member": False, "is_private": True}
    assert transport.send(outgoing(channel_id="G1")) == Refused("channel_not_found")
    assert slack.calls("response_url") == []


@pytest.mark.parametrize("code", ["is_archived", "account_inactive", "msg_too_long"])
def test_transport_refuses_what_slack_would_refuse_again(
    transport: SlackTransport, slack: FakeSlack, code: str
) -> None:
    slack.fail("chat.postMessage", error=code)
    assert transport.send(outgoing(response_url=slack.response_url())) == Refused(code)
    assert slack.calls("response_url") == []


# -- missionbot outbox --------------------------------------------------------------------------
def test_cli_outbox_shows_counts_by_kind_and_the_last_failures(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database.url)
    assert main(["outbox"]) == 0
    assert "The outbox is empty" in capsys.readouterr().out
    announcement, dm = OutboxKind.KUDOS_ANNOUNCEMENT, OutboxKind.KUDOS_DM
    add(database, "C1", "g1", kind=announcement)
    add(database, "C2", "g2", kind=announcement)
    add(database, "U1", "g2", kind=dm)
    with database.transaction() as session:
        [rows] = queue.claim(session, owner="o", now=T0, lease=LEASE, kinds=[dm])
        queue.mark_failed(rows, now=T0, reason="account_inactive")
        [rows] = queue.claim(session, owner="o", now=T0, lease=LEASE, kinds=[announcement])
        queue.mark_sent(rows, now=T0, message_ts="1.2")
    assert main(["outbox"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "kind",
        "pending",
        "sending",
        "sent",
        "failed",
        "cancelled",
        "oldest",
        "pending",
    ]
    assert lines[1].split()[:6] == ["kudos_announcement", "1", "0", "1", "0", "0"]
    assert lines[1].split()[6].endswith(("s", "m", "h"))
    assert lines[2].split()[:6] == ["kudos_dm", "0", "0", "0", "1", "0"]
    assert lines[4] == "Last 1 failed:"
    assert lines[5].endswith("#3 kudos_dm g2 to U1 (T0TIDEWATER), 1 attempt(s): account_inactive")
