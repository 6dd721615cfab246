"""User-group mentions in a kudos, and kudos announced in the thread they came from."""

from __future__ import annotations

import json

from tests.conftest import Bot
from tests.support.conversation import message, wait_until
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import (
    BEN,
    CARL,
    DANA,
    GIVER,
    allowance_used,
    kudos_rows,
    message_shortcut,
    opened_view,
    submission,
)
from tests.support.slack_client import DEFAULT_CHANNEL

OPS = "S0OPSTEAM"


def test_a_group_mention_recognises_its_members_and_counts_once(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user("UDEPLOYBOT", is_bot=True)
    slack.add_user("UGONE0001", deleted=True)
    slack.usergroups[OPS] = [BEN, CARL, GIVER, "UDEPLOYBOT", "UGONE0001"]
    reply = bot.command("/kudos", f"<!subteam^{OPS}|@ops> #fix-the-cause for the night shift")
    assert "Kudos recorded" in reply.text
    rows = kudos_rows(bot.database)
    assert sorted(row.receiver_id for row in rows) == [BEN, CARL]
    assert rows[0].message == "for the night shift"
    assert allowance_used(bot.database) == 1
    # A group and a person named on their own: one for the group, one for the person.
    reply = bot.command("/kudos", f"<@{DANA}> <!subteam^{OPS}> #plain-words clear handover")
    assert "Kudos recorded" in reply.text
    assert allowance_used(bot.database) == 3
    assert len(slack.calls("usergroups.users.list")) == 1  # the members were cached


def test_a_group_larger_than_the_cap_is_refused_with_nothing_recorded(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.usergroups[OPS] = [f"UMEMBER{n:04d}" for n in range(500)]
    reply = bot.command("/kudos", f"<!subteam^{OPS}|@everyone-ops> #fix-the-cause thanks all")
    assert reply.status == 200
    assert "That would recognise 500 people; a kudos reaches at most 25" in reply.text
    assert kudos_rows(bot.database) == []
    assert allowance_used(bot.database) == 0
    assert not slack.calls("users.info")  # 500 members cost one call, not 500


def test_an_unknown_group_is_refused_politely(bot: Bot, slack: FakeSlack) -> None:
    reply = bot.command("/kudos", "<!subteam^S0GONE|@old> #fix-the-cause thanks")
    assert "couldn't see who is in that user group (it may have been disabled)" in reply.text
    assert kudos_rows(bot.database) == []


def test_a_group_mention_without_a_principle_fills_the_form_with_its_members(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.usergroups[OPS] = [BEN, CARL]
    bot.command("/kudos", f"<!subteam^{OPS}> thanks for the night shift")
    view = opened_view(slack)
    recipients = next(b for b in view["blocks"] if b.get("block_id") == "recipients")
    assert recipients["element"]["initial_users"] == [BEN, CARL]


def test_a_group_in_a_kudos_message_recognises_its_members(bot: Bot, slack: FakeSlack) -> None:
    slack.usergroups[OPS] = [BEN, CARL, DANA]
    bot.event(message(f"kudos <!subteam^{OPS}|@ops> :wrench: root cause found", user=GIVER))
    wait_until(lambda: len(kudos_rows(bot.database)) == 3, what="three kudos")
    assert allowance_used(bot.database) == 1
    slack.wait_for("reactions.add")


def test_kudos_from_the_message_shortcut_are_announced_in_the_messages_thread(
    bot: Bot, slack: FakeSlack
) -> None:
    shortcut = message_shortcut(slack, author=BEN, text="fixed the manifest")
    bot.interaction(shortcut)
    metadata = json.loads(opened_view(slack)["private_metadata"])
    assert metadata["thread_ts"] == shortcut["message_ts"]
    payload = submission(
        slack, recipients=[BEN], principle="fix-the-cause", message="for this", source="shortcut"
    )
    payload["view"]["private_metadata"] = json.dumps(metadata)
    bot.interaction(payload)
    [post] = slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == DEFAULT_CHANNEL)
    assert post["thread_ts"] == shortcut["message_ts"]
    assert kudos_rows(bot.database)[0].source == "shortcut"


def test_a_shortcut_kudos_shared_in_another_channel_is_announced_there_on_its_own(
    bot: Bot, slack: FakeSlack
) -> None:
    shortcut = message_shortcut(slack, author=BEN, text="fixed the manifest")
    bot.interaction(shortcut)
    metadata = json.loads(opened_view(slack)["private_metadata"])
    payload = submission(
        slack,
        recipients=[BEN],
        principle="fix-the-cause",
        message="for this",
        source="shortcut",
        share_in="CRANDOM001",
    )
    payload["view"]["private_metadata"] = json.dumps(metadata)
    bot.interaction(payload)
    [post] = slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == "CRANDOM001")
    assert post.get("thread_ts") is None
