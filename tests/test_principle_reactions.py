"""Principle reactions: a principle's emoji on a message gives its author kudos for it."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.config import Settings, example_mission_file
from bot.db.models import Kudos, RecognisedMessage
from bot.mission.file import PrincipleSpec, parse_mission
from bot.mission.service import sync_mission
from tests.conftest import Bot, running_bot
from tests.support.conversation import (
    new_ts,
    reaction_added,
    reaction_removed,
    reaction_to_file,
    wait_until,
)
from tests.support.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from tests.support.kudos import BEN, CARL, DANA, GIVER, allowance_used, kudos_rows, outbox_settled
from tests.support.slack_client import DEFAULT_CHANNEL


def recorded(bot: Bot, count: int) -> list[Kudos]:
    wait_until(lambda: len(kudos_rows(bot.database)) >= count, what=f"{count} kudos")
    return kudos_rows(bot.database)


def thread_posts(slack: FakeSlack, ts: str) -> list[object]:
    return [c for c in slack.calls("chat.postMessage") if c.get("thread_ts") == ts]


def dms_to(slack: FakeSlack, user: str) -> list[object]:
    return [c for c in slack.calls("chat.postMessage") if c.get("channel") == user]


def test_a_principle_emoji_gives_the_author_kudos_with_a_link_and_a_thread_reply(
    bot: Bot, slack: FakeSlack
) -> None:
    ts = new_ts()
    assert bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts)).status == 200
    [kudos] = recorded(bot, 1)
    assert (kudos.giver_id, kudos.receiver_id, kudos.source) == (GIVER, BEN, "reaction")
    assert (kudos.channel_id, kudos.message_ts) == (DEFAULT_CHANNEL, ts)
    link = f"https://tidewater.slack.com/archives/{DEFAULT_CHANNEL}/p{ts.replace('.', '')}"
    assert kudos.message == f"For this message: {link}"
    [reply] = slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == ts)
    assert reply["channel"] == DEFAULT_CHANNEL
    assert "Own the outcome" in reply["text"]
    assert "recognised by uana0001" in reply["text"]
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.get("channel") == BEN)
    assert "recognised with principle reactions" in dm["text"]
    outbox_settled(bot.database)
    # The reply is the only post in the channel: no announcement of its own.
    in_channel = [c for c in slack.calls("chat.postMessage") if c["channel"] == DEFAULT_CHANNEL]
    assert in_channel == [reply]
    assert allowance_used(bot.database) == 1


def test_an_alias_and_a_skin_tone_mean_the_principle(bot: Bot, slack: FakeSlack) -> None:
    first, second = new_ts(), new_ts()
    bot.event(reaction_added(user=GIVER, name="100", item_user=BEN, ts=first))
    bot.event(
        reaction_added(user=GIVER, name="hammer_and_wrench::skin-tone-3", item_user=BEN, ts=second)
    )
    rows = recorded(bot, 2)
    keys = {row.message_ts: row.principle_id for row in rows}
    principles = bot.runtime.mission.catalog(bot.database, TEAM_ID)
    by_id = {p.id: p.key for p in principles.principles}
    assert by_id[keys[first]] == "own-the-outcome"
    assert by_id[keys[second]] == "fix-the-cause"


def test_a_redelivered_or_repeated_reaction_counts_once_per_giver_message_and_principle(
    bot: Bot, slack: FakeSlack
) -> None:
    ts = new_ts()
    event = reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts)
    bot.event(event, event_id="Ev0REACTION1")
    recorded(bot, 1)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert bot.event(event, event_id="Ev0REACTION1", headers=retry).status == 200
    # The same reaction again (Slack sends a new event when it is toggled off and on).
    bot.event(event, event_id="Ev0REACTION2")
    # Another principle on the same message is another kudos.
    bot.event(reaction_added(user=GIVER, name="eyes", item_user=BEN, ts=ts))
    rows = recorded(bot, 2)
    outbox_settled(bot.database)
    assert len(kudos_rows(bot.database)) == 2 == len(rows)
    assert allowance_used(bot.database) == 2
    assert len(thread_posts(slack, ts)) == 1
    assert len(dms_to(slack, BEN)) == 1


def test_removing_the_reaction_within_the_undo_window_withdraws_the_kudos(
    bot: Bot, slack: FakeSlack
) -> None:
    ts = new_ts()
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts))
    recorded(bot, 1)
    slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == ts)
    outbox_settled(bot.database)
    bot.event(reaction_removed(user=GIVER, name="dart", item_user=BEN, ts=ts))
    wait_until(lambda: not kudos_rows(bot.database), what="the kudos withdrawn")
    assert allowance_used(bot.database) == 0
    [edit] = slack.wait_for("chat.update")
    assert "withdrawn" in edit["text"]
    assert len(kudos_rows(bot.database, include_withdrawn=True)) == 1


def test_removing_it_after_the_undo_window_leaves_the_kudos(bot: Bot, slack: FakeSlack) -> None:
    ts = new_ts()
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts))
    recorded(bot, 1)
    outbox_settled(bot.database)
    with bot.database.transaction() as session:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)
        session.execute(update(Kudos).values(created_at=old))
    # Another giver's removal of their own reaction is handled first: a marker to wait for.
    bot.event(reaction_removed(user=GIVER, name="dart", item_user=BEN, ts=ts))
    bot.event(reaction_added(user=CARL, name="dart", item_user=BEN, ts=ts))
    rows = recorded(bot, 2)
    assert {row.giver_id for row in rows} == {GIVER, CARL}
    outbox_settled(bot.database)
    assert not slack.calls("chat.postEphemeral")


def test_what_is_no_principle_reaction_is_ignored_silently(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user("UDEPLOYBOT", is_bot=True)
    slack.add_user(DANA, deleted=True)
    ignored = [
        reaction_added(user=GIVER, name="dart", item_user=GIVER, ts=new_ts()),  # own message
        reaction_added(user=GIVER, name="dart", item_user=BOT_USER_ID, ts=new_ts()),  # our post
        reaction_added(user=GIVER, name="dart", item_user="UDEPLOYBOT", ts=new_ts()),  # a bot
        reaction_added(user=GIVER, name="dart", item_user=DANA, ts=new_ts()),  # left
        reaction_added(user=GIVER, name="dart", item_user=BEN, ts=new_ts(), channel="D0DIRECT1"),
        reaction_added(
            user=GIVER,
            name="dart",
            item_user=BEN,
            ts=new_ts(),
            channel="C0MPIM01",
            channel_type="mpim",
        ),
        reaction_added(user=GIVER, name="dart", item_user=None, ts=new_ts()),  # an app's message
        reaction_to_file(user=GIVER, name="dart", item_user=BEN),
        reaction_added(user=GIVER, name="tada", item_user=BEN, ts=new_ts()),  # no principle
        reaction_added(user=BOT_USER_ID, name="dart", item_user=BEN, ts=new_ts()),
    ]
    for event in ignored:
        assert bot.event(event).status == 200
    marker = new_ts()
    bot.event(reaction_added(user=CARL, name="dart", item_user=BEN, ts=marker))
    [kudos] = recorded(bot, 1)
    assert kudos.message_ts == marker
    outbox_settled(bot.database)
    assert not slack.calls("chat.postEphemeral")
    assert len(slack.calls("chat.postMessage")) == 2  # the marker's thread reply and DM


def test_a_retired_principles_emoji_is_ignored_without_a_note(bot: Bot, slack: FakeSlack) -> None:
    example = parse_mission(example_mission_file().read_text())
    retired = PrincipleSpec(key="old-ways", title="The old ways", emoji=":ghost:")
    with bot.database.transaction() as session:
        sync_mission(
            session,
            team_id=TEAM_ID,
            document=type(example)(
                statement=example.statement,
                company=example.company,
                principles=(*example.principles, retired),
            ),
        )
    # The bot's first request syncs the example file, which retires `old-ways`.
    bot.event(reaction_added(user=GIVER, name="ghost", item_user=BEN, ts=new_ts()))
    marker = new_ts()
    bot.event(reaction_added(user=CARL, name="dart", item_user=BEN, ts=marker))
    [kudos] = recorded(bot, 1)
    assert kudos.message_ts == marker
    outbox_settled(bot.database)
    assert not slack.calls("chat.postEphemeral")


def test_a_message_older_than_the_bot_is_recognised_all_the_same(
    bot: Bot, slack: FakeSlack
) -> None:
    ancient = "1262304000.000100"  # 2010, long before the bot was installed
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ancient))
    [kudos] = recorded(bot, 1)
    assert kudos.message_ts == ancient
    slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == ancient)


def test_over_the_allowance_nothing_is_recorded_and_the_reactor_is_told_once_a_day(
    bot: Bot, slack: FakeSlack
) -> None:
    for _ in range(5):
        bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=new_ts()))
    recorded(bot, 5)
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=new_ts()))
    [note] = slack.wait_for("chat.postEphemeral")
    assert note["user"] == GIVER
    assert "today's 5 kudos" in note["text"]
    bot.event(reaction_added(user=GIVER, name="eyes", item_user=CARL, ts=new_ts()))
    bot.event(reaction_added(user=CARL, name="dart", item_user=BEN, ts=new_ts()))  # marker
    recorded(bot, 6)
    outbox_settled(bot.database)
    assert len(kudos_rows(bot.database)) == 6
    assert allowance_used(bot.database) == 5
    assert len(slack.calls("chat.postEphemeral")) == 1


def test_fifty_reactors_within_a_second_make_fifty_kudos_and_one_thread_reply(
    bot: Bot, slack: FakeSlack
) -> None:
    ts = new_ts()
    givers = [f"UFAN{n:05d}" for n in range(50)]
    threads = [
        threading.Thread(
            target=bot.event,
            args=(reaction_added(user=giver, name="dart", item_user=BEN, ts=ts),),
        )
        for giver in givers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = recorded(bot, 50)
    assert sorted(row.giver_id for row in rows) == givers
    for giver in givers:
        assert allowance_used(bot.database, giver) == 1
    outbox_settled(bot.database, timeout=20)
    assert len(thread_posts(slack, ts)) == 1
    assert len(dms_to(slack, BEN)) == 1
    final = (slack.calls("chat.update") or thread_posts(slack, ts))[-1]
    assert "and 48 others" in final["text"]  # type: ignore[index]
    with bot.database.reading() as session:
        [message] = session.scalars(select(RecognisedMessage)).all()
        assert message.reply_ts is not None


def test_simultaneous_deliveries_of_one_reaction_record_one_kudos(
    bot: Bot, slack: FakeSlack
) -> None:
    """Two deliveries of the same reaction (different event IDs) race: one kudos, one DM."""
    ts = new_ts()
    barrier = threading.Barrier(8)

    def send(n: int) -> None:
        barrier.wait()
        bot.event(
            reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts), event_id=f"EvRACE{n}"
        )

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorded(bot, 1)
    outbox_settled(bot.database)
    assert len(kudos_rows(bot.database)) == 1
    assert allowance_used(bot.database) == 1
    assert len(dms_to(slack, BEN)) == 1
    assert len(thread_posts(slack, ts)) == 1


def test_a_reaction_to_a_reply_is_answered_in_that_thread(bot: Bot, slack: FakeSlack) -> None:
    parent, reply = new_ts(), new_ts()
    slack.thread_of[reply] = parent
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=reply))
    [kudos] = recorded(bot, 1)
    assert kudos.message_ts == reply
    [post] = slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == parent)
    assert "Own the outcome" in post["text"]
    bot.event(reaction_added(user=CARL, name="dart", item_user=BEN, ts=reply))
    [edit] = slack.wait_for("chat.update")
    assert "recognised by uana0001 and ucarl003" in edit["text"]
    outbox_settled(bot.database)
    assert len(thread_posts(slack, parent)) == 1
    assert thread_posts(slack, reply) == []


def test_kudos_undo_of_a_reaction_kudos_redraws_the_thread_reply(
    bot: Bot, slack: FakeSlack
) -> None:
    ts = new_ts()
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts))
    recorded(bot, 1)
    slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == ts)
    outbox_settled(bot.database)
    assert "Withdrawn" in bot.command("/kudos", "undo").text
    [edit] = slack.wait_for("chat.update")
    assert "withdrawn" in edit["text"]
    assert kudos_rows(bot.database) == []


def test_an_emoji_two_principles_share_gives_no_kudos_and_start_up_warns_once(
    settings: Settings, slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = example_mission_file().read_text().replace('[":100:"]', '[":100:", ":eyes:"]')
    path = tmp_path / "mission.yaml"
    path.write_text(shared)
    caplog.set_level(logging.WARNING)
    with running_bot(settings.model_copy(update={"mission_file": path}), slack) as bot:
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "emoji :eyes: also belongs to principle" in warnings[0].getMessage()
        bot.event(reaction_added(user=GIVER, name="eyes", item_user=BEN, ts=new_ts()))
        marker = new_ts()
        bot.event(reaction_added(user=CARL, name="dart", item_user=BEN, ts=marker))
        [kudos] = recorded(bot, 1)
        assert kudos.message_ts == marker
        outbox_settled(bot.database)
        assert len(kudos_rows(bot.database)) == 1
