"""After the commit: the public message (escaped) and the DMs go out through the outbox; the
confirmation is the acknowledgement; Slack failing delays or fails a message, never the kudos."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from bot.config import Settings
from bot.outbox.queue import status_summary
from tests.conftest import Bot
from tests.support.fake_slack import Call, FakeSlack
from tests.support.kudos import BEN, DANA, GIVER, kudos_rows, outbox_settled, submission

# Everything Slack would turn into a ping or a link: <!…>, <@…>, <#…>, <http…>.
SLACK_MARKUP = re.compile(r"<[^>]*>")


def all_text(call_params: dict[str, Any]) -> str:
    blocks = call_params.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return call_params["text"] + "\n" + json.dumps(blocks, ensure_ascii=False)


def public_post(slack: FakeSlack, timeout: float = 5.0) -> dict[str, Any]:
    [post] = slack.wait_for("chat.postMessage", timeout=timeout, where=in_general)
    return post.params


def in_general(call: Call) -> bool:
    return call.get("channel") == "CGENERAL01"


def announced(bot: Bot, timeout: float = 10.0) -> str:
    """The kudos's public message ts, once the sender has recorded it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bot.deliver()
        ts = kudos_rows(bot.database)[0].public_message_ts
        if ts:
            return ts
        time.sleep(0.05)
    raise AssertionError("the kudos was not announced")


def test_public_message_names_giver_receivers_principle_with_emoji_and_message(
    bot: Bot, slack: FakeSlack
) -> None:
    reply = bot.command("/kudos", f"<@{DANA}|dana> <@{BEN}> #plain-words rewrote the delay notice")
    # The confirmation is the acknowledgement itself: no call to Slack for it.
    assert reply.json["response_type"] == "ephemeral"
    assert "You have 3 of 5 kudos left today." in reply.text
    text = all_text(public_post(slack))
    assert f"<@{GIVER}> gave kudos to <@{DANA}> and <@{BEN}>" in text
    assert ":speech_balloon: *Say it in plain words*" in text
    assert "rewrote the delay notice" in text
    dms = slack.wait_for("chat.postMessage", count=3)
    assert {c["channel"] for c in dms} >= {DANA, BEN}
    assert slack.calls("response_url") == []


def test_slack_markup_typed_in_a_command_cannot_ping_or_disguise_a_link(
    bot: Bot, slack: FakeSlack
) -> None:
    # As Slack sends it with should_escape: typed "@channel" arrives as <!channel>, a typed
    # "<https://evil|bank>" arrives entity-escaped, an auto-linked URL with a label as <…|…>.
    tricks = (
        "<!channel> <!here> <!everyone> <!subteam^S0OPS|@ops> "
        "&lt;https://evil.example|https://bank.example&gt; "
        "<https://evil.example/login|bank.example> &amp; more"
    )
    # A user-group mention names its members (an empty group here), and leaves the words.
    slack.usergroups["S0OPS"] = []
    bot.command("/kudos", f"<@{DANA}|dana> #plain-words {tricks}")
    post = public_post(slack)
    markup = set(SLACK_MARKUP.findall(all_text(post)))
    assert markup == {f"<@{GIVER}>", f"<@{DANA}>"}
    text = post["text"]
    assert "@channel @here @everyone &lt;https" in text
    assert "&lt;https://evil.example|https://bank.example&gt;" in text
    assert "bank.example (https://evil.example/login)" in text
    assert "&amp; more" in text
    assert "link_names" not in post


def test_markup_typed_into_the_modal_is_escaped_too(bot: Bot, slack: FakeSlack) -> None:
    message = "<!channel> see <https://evil.example|bank.example> & <@U0ATTACK>"
    bot.interaction(submission(slack, recipients=[DANA], principle="plain-words", message=message))
    assert kudos_rows(bot.database)[0].message == message
    markup = set(SLACK_MARKUP.findall(all_text(public_post(slack))))
    assert markup == {f"<@{GIVER}>", f"<@{DANA}>"}


def test_an_announcement_slack_refuses_keeps_the_kudos_and_tells_the_giver_by_dm(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.channels["CGENERAL01"] = {"is_archived": True}
    reply = bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    assert "Kudos recorded" in reply.text
    assert len(kudos_rows(bot.database)) == 1
    [note] = slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == GIVER)
    assert "saved and counts" in note["text"]
    assert "<#CGENERAL01> (`is_archived`)" in note["text"]
    slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == DANA)


def test_slack_failing_for_a_while_after_the_commit_delays_the_announcement_only(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.fail("chat.postMessage", status=500, times=2)
    assert "Kudos recorded" in bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks").text
    assert announced(bot, timeout=15)  # retried with backoff until Slack took it
    slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == DANA, timeout=15)


def test_a_dm_slack_refuses_ends_failed_with_its_reason_for_operators(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.add_user(DANA)
    slack.fail("chat.postMessage", error="account_inactive", times=5)
    bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        bot.deliver()
        with bot.database.reading() as session:
            summary = status_summary(session)
        if len(summary.failures) >= 2:
            break
        time.sleep(0.05)
    # (The note telling the giver is refused too, here: Slack refuses everything.)
    assert {"kudos_announcement", "kudos_dm"} <= {f.kind for f in summary.failures}
    assert {f.reason for f in summary.failures} == {"account_inactive"}
    assert len(kudos_rows(bot.database)) == 1


def test_rate_limited_post_is_retried_and_delivered(bot: Bot, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=1)
    bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    assert announced(bot)
    assert not [c for c in slack.calls("chat.postMessage") if "saved and counts" in c["text"]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Slack's answers are awaited briefly here, so that a slow Slack times out quickly, and a
    failed send is retried after 0.1 s (doubling), not 2 s: these tests are about the retry
    delivering, not its backoff (tests/test_sender.py)."""
    return settings.model_copy(
        update={"slack_api_timeout": 0.3, "missionbot_outbox_retry_seconds": 0.1}
    )


def test_a_public_post_that_times_out_is_retried_and_delivered(bot: Bot, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", delay=0.6)
    reply = bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    assert reply.status == 200
    assert announced(bot, timeout=15)
    outbox_settled(bot.database, timeout=15)
    # One of the two messages timed out and went again (Slack may have taken it: a lost
    # answer is sent again rather than the message lost).
    assert len(slack.calls("chat.postMessage")) >= 3
