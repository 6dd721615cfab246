"""Kudos in a message: `kudos @ana #principle …` in a channel records kudos like `/kudos`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bot.db.models import Kudos
from tests.conftest import Bot
from tests.support.conversation import (
    app_mention,
    bot_message,
    message,
    message_changed,
    message_deleted,
    new_ts,
    wait_until,
)
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import BEN, CARL, GIVER, allowance_used, kudos_rows, outbox_settled
from tests.support.slack_client import DEFAULT_CHANNEL


def recorded(bot: Bot, count: int) -> list[Kudos]:
    wait_until(lambda: len(kudos_rows(bot.database)) >= count, what=f"{count} kudos")
    return kudos_rows(bot.database)


def principle_key(bot: Bot, principle_id: int) -> str:
    catalog = bot.runtime.mission.catalog(bot.database, TEAM_ID)
    return next(p.key for p in catalog.principles if p.id == principle_id)


def test_a_kudos_message_records_confirms_with_a_reaction_and_answers_in_its_thread(
    bot: Bot, slack: FakeSlack
) -> None:
    said = message(f"kudos <@{BEN}> #plain-words thanks for the clear delay notice", user=GIVER)
    assert bot.event(said).status == 200
    [kudos] = recorded(bot, 1)
    assert (kudos.giver_id, kudos.receiver_id, kudos.source) == (GIVER, BEN, "message")
    assert kudos.message == "thanks for the clear delay notice"
    assert (kudos.channel_id, kudos.message_ts) == (DEFAULT_CHANNEL, said["ts"])
    assert principle_key(bot, kudos.principle_id) == "plain-words"
    [tick] = slack.wait_for("reactions.add")
    assert (tick["channel"], tick["timestamp"], tick["name"]) == (
        DEFAULT_CHANNEL,
        said["ts"],
        "white_check_mark",
    )
    [announced] = slack.wait_for(
        "chat.postMessage", where=lambda c: c.get("channel") == DEFAULT_CHANNEL
    )
    assert announced["thread_ts"] == said["ts"]
    assert "clear delay notice" in announced["text"]
    slack.wait_for("chat.postMessage", where=lambda c: c.get("channel") == BEN)
    assert not slack.calls("chat.postEphemeral")


def test_a_principle_emoji_names_the_principle_and_leaves_the_words(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.event(message(f"Kudos: <@{BEN}> <@{CARL}> :dart: stayed on the outage :tada:", user=GIVER))
    rows = recorded(bot, 2)
    assert {row.receiver_id for row in rows} == {BEN, CARL}
    assert principle_key(bot, rows[0].principle_id) == "own-the-outcome"
    assert rows[0].message == "stayed on the outage :tada:"
    assert allowance_used(bot.database) == 2


def test_a_kudos_in_a_thread_is_announced_in_that_thread(bot: Bot, slack: FakeSlack) -> None:
    parent = new_ts()
    bot.event(message(f"kudos <@{BEN}> #fix-the-cause found it", user=GIVER, thread_ts=parent))
    recorded(bot, 1)
    [announced] = slack.wait_for(
        "chat.postMessage", where=lambda c: c.get("channel") == DEFAULT_CHANNEL
    )
    assert announced["thread_ts"] == parent


def test_a_refused_kudos_message_gets_an_ephemeral_note_and_records_nothing(
    bot: Bot, slack: FakeSlack
) -> None:
    for text in (
        f"kudos <@{BEN}> #zebra-crossing great work",
        f"kudos <@{GIVER}> #plain-words me, myself",
        f"kudos <@{BEN}> great work",
    ):
        bot.event(message(text, user=GIVER))
    notes = slack.wait_for("chat.postEphemeral", count=3)
    texts = "\n".join(note["text"] for note in notes)
    assert "I don't know a principle called `zebra-crossing`" in texts
    assert "can't give one to yourself" in texts
    assert "Name a principle too" in texts
    assert all(note["user"] == GIVER for note in notes)
    assert "`kudos @ana #plain-words" in notes[0]["text"]
    assert kudos_rows(bot.database) == []
    assert not slack.calls("reactions.add")


def test_chat_that_is_no_kudos_is_left_alone(bot: Bot, slack: FakeSlack) -> None:
    original = message("Kudos to the whole team for the launch!", user=GIVER)
    for event in (
        original,
        message(f"kudosify <@{BEN}> #plain-words nope", user=GIVER),
        message(f"thanks <@{BEN}>, kudos #plain-words", user=GIVER),
        bot_message(f"kudos <@{BEN}> #plain-words from a bot"),
        message_changed(original, f"kudos <@{BEN}> #plain-words edited in"),
        message(f"kudos <@{BEN}> #plain-words in a DM", user=GIVER, channel="D0DIRECT1"),
        app_mention(f"<@UMISSIONBOT> kudos <@{BEN}> #plain-words mention", user=GIVER),
    ):
        assert bot.event(event).status == 200
    bot.event(message(f"kudos <@{CARL}> #plain-words the marker", user=GIVER))
    [kudos] = recorded(bot, 1)
    assert kudos.receiver_id == CARL
    outbox_settled(bot.database)
    assert not slack.calls("chat.postEphemeral")
    assert len(slack.calls("reactions.add")) == 1


def test_a_redelivered_kudos_message_records_once(bot: Bot, slack: FakeSlack) -> None:
    said = message(f"kudos <@{BEN}> #plain-words thanks", user=GIVER)
    bot.event(said, event_id="Ev0MESSAGE01")
    recorded(bot, 1)
    retry = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "timeout"}
    assert bot.event(said, event_id="Ev0MESSAGE01", headers=retry).status == 200
    bot.event(message(f"kudos <@{CARL}> #plain-words marker", user=GIVER))
    recorded(bot, 2)
    outbox_settled(bot.database)
    assert [row.receiver_id for row in kudos_rows(bot.database)] == [BEN, CARL]
    assert len(slack.calls("reactions.add")) == 2


def test_deleting_a_kudos_message_within_the_undo_window_withdraws_it(
    bot: Bot, slack: FakeSlack
) -> None:
    said = message(f"kudos <@{BEN}> #plain-words thanks", user=GIVER)
    bot.event(said)
    recorded(bot, 1)
    slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == said["ts"])
    outbox_settled(bot.database)
    bot.event(message_deleted(said))
    wait_until(lambda: not kudos_rows(bot.database), what="the kudos withdrawn")
    assert allowance_used(bot.database) == 0
    [edit] = slack.wait_for("chat.update")
    assert "withdrew" in edit["text"]


def test_deleting_it_after_the_undo_window_leaves_the_kudos(bot: Bot, slack: FakeSlack) -> None:
    said = message(f"kudos <@{BEN}> #plain-words thanks", user=GIVER)
    bot.event(said)
    recorded(bot, 1)
    outbox_settled(bot.database)
    with bot.database.transaction() as session:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)
        session.execute(update(Kudos).values(created_at=old))
    bot.event(message_deleted(said))
    bot.event(message(f"kudos <@{CARL}> #plain-words marker", user=GIVER))
    recorded(bot, 2)
    outbox_settled(bot.database)
    assert len(kudos_rows(bot.database)) == 2
    assert not slack.calls("chat.update")
