"""`/mission today|subscribe|unsubscribe|schedule`: signed requests against the fake Slack."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from bot.blocks.ids import Action, BlockId
from bot.daily.rotation import principle_for_day
from bot.db.models import Subscription
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack

CHANNEL = "CSUBSCRIBE"
USER = "UANA0001"


def subscriptions(bot: Bot) -> list[Subscription]:
    with bot.database.transaction() as session:
        return list(session.scalars(select(Subscription)))


def share_payload(bot: Bot, value: str, channel: str = CHANNEL) -> dict[str, Any]:
    return bot.button_payload(
        Action.SHARE_TODAY, value, block_id=BlockId.DAILY_ACTIONS, user=USER, channel=channel
    )


# -- subscribe / unsubscribe -------------------------------------------------------------------


def test_subscribe_defaults_to_0900_weekdays_in_the_subscribers_timezone(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.add_user(USER, tz="Asia/Kolkata")
    reply = bot.command("/mission", "subscribe", user=USER, channel=CHANNEL)
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "at *09:00* on weekdays (Mon to Fri), Asia/Kolkata time" in reply.text
    [row] = subscriptions(bot)
    assert (row.team_id, row.channel_id, row.post_time, row.weekdays, row.timezone) == (
        TEAM_ID,
        CHANNEL,
        "09:00",
        "mon,tue,wed,thu,fri",
        "Asia/Kolkata",
    )
    assert row.created_by == USER
    assert [c["channel"] for c in slack.calls("conversations.info")] == [CHANNEL]


def test_subscribing_again_updates_the_schedule(bot: Bot) -> None:
    bot.command("/mission", "subscribe", channel=CHANNEL)
    reply = bot.command("/mission", "subscribe 7:45 daily Pacific/Auckland", channel=CHANNEL)
    assert "at *07:45* on every day, Pacific/Auckland time" in reply.text
    [row] = subscriptions(bot)
    assert (row.post_time, row.weekdays, row.timezone) == (
        "07:45",
        "mon,tue,wed,thu,fri,sat,sun",
        "Pacific/Auckland",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("subscribe 24:30", "`24:30` isn't a time"),
        ("subscribe someday", "`someday` in `someday` isn't a weekday"),
        ("subscribe Europe/Atlantis", "`Europe/Atlantis` isn't a timezone"),
    ],
)
def test_bad_schedules_get_a_clear_message_with_an_example_and_change_nothing(
    bot: Bot, text: str, problem: str
) -> None:
    reply = bot.command("/mission", text, channel=CHANNEL)
    assert reply.status == 200
    assert problem in reply.text
    assert "/mission subscribe 09:30 weekdays Europe/Berlin" in reply.text
    assert subscriptions(bot) == []


def test_subscribing_where_the_bot_is_not_a_member_says_how_to_invite_it(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.channels["CPRIVATE1"] = {"is_member": False, "is_private": True}
    reply = bot.command("/mission", "subscribe", channel="CPRIVATE1")
    assert "/invite @missionbot" in reply.text
    assert "private" in reply.text
    assert subscriptions(bot) == []


def test_subscribing_in_a_channel_slack_hides_from_the_bot_says_how_to_invite_it(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.fail("conversations.info", error="channel_not_found")
    reply = bot.command("/mission", "subscribe", channel="CHIDDEN01")
    assert "/invite @missionbot" in reply.text
    assert subscriptions(bot) == []


def test_unsubscribe_stops_the_posts_and_says_so_when_there_were_none(bot: Bot) -> None:
    bot.command("/mission", "subscribe", channel=CHANNEL)
    assert (
        "no more principle of the day"
        in bot.command("/mission", "unsubscribe", channel=CHANNEL).text
    )
    assert subscriptions(bot) == []
    assert "wasn't subscribed" in bot.command("/mission", "unsubscribe", channel=CHANNEL).text


def test_restricted_schedules_are_for_admins_only(
    bot: Bot, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.runtime.settings, "missionbot_restrict_schedule", True)
    monkeypatch.setattr(bot.runtime.settings, "missionbot_admins", frozenset({"UMANAGER1"}))
    slack.add_user("UADMIN001", is_admin=True)
    refused = bot.command("/mission", "subscribe", user=USER, channel=CHANNEL)
    assert "Only workspace admins" in refused.text
    assert subscriptions(bot) == []
    bot.command("/mission", "subscribe", user="UADMIN001", channel=CHANNEL)
    assert len(subscriptions(bot)) == 1
    assert (
        "Only workspace admins"
        in bot.command("/mission", "unsubscribe", user=USER, channel=CHANNEL).text
    )
    bot.command("/mission", "unsubscribe", user="UMANAGER1", channel=CHANNEL)
    assert subscriptions(bot) == []


# -- schedule ---------------------------------------------------------------------------------


def test_schedule_shows_the_time_and_the_next_post_in_the_channels_zone(bot: Bot) -> None:
    with time_machine.travel(dt.datetime(2026, 1, 16, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata"))):
        bot.command("/mission", "subscribe 09:30 Asia/Kolkata", channel=CHANNEL)
        reply = bot.command("/mission", "schedule", channel=CHANNEL)
    assert "at *09:30* on weekdays (Mon to Fri), Asia/Kolkata time" in reply.text
    # Friday after the post: the next one is Monday.
    assert "The next one: Monday 19 January, 09:30 IST." in reply.text


def test_schedule_of_an_unsubscribed_channel_says_how_to_start(bot: Bot) -> None:
    reply = bot.command("/mission", "schedule", channel=CHANNEL)
    assert "doesn't get the principle of the day" in reply.text
    assert "/mission subscribe" in reply.text


def test_a_paused_schedule_says_why_and_subscribing_again_resumes_it(bot: Bot) -> None:
    bot.command("/mission", "subscribe", channel=CHANNEL)
    with bot.database.transaction() as session:
        session.scalars(select(Subscription)).one().paused_reason = "not_in_channel"
    reply = bot.command("/mission", "schedule", channel=CHANNEL)
    assert "paused" in reply.text
    assert "not_in_channel" in reply.text
    assert "/invite @missionbot" in reply.text
    bot.command("/mission", "subscribe", channel=CHANNEL)
    assert subscriptions(bot)[0].paused_reason is None


def test_schedule_changes_reach_the_running_scheduler_without_a_restart(
    bot: Bot, slack: FakeSlack
) -> None:
    scheduler = bot.runtime.scheduler
    scheduler.start()
    slack.add_user(USER, tz="America/New_York")
    kolkata = ZoneInfo("Asia/Kolkata")

    bot.command("/mission", "subscribe 07:30 daily Asia/Kolkata", channel=CHANNEL)
    next_run = scheduler.next_run(TEAM_ID, CHANNEL)
    assert next_run is not None
    assert next_run.astimezone(kolkata).time() == dt.time(7, 30)
    assert dt.timedelta(0) < next_run - dt.datetime.now(dt.UTC) <= dt.timedelta(days=1)

    bot.command("/mission", "subscribe 18:05 daily Asia/Kolkata", channel=CHANNEL)
    changed = scheduler.next_run(TEAM_ID, CHANNEL)
    assert changed is not None
    assert changed.astimezone(kolkata).time() == dt.time(18, 5)

    bot.command("/mission", "unsubscribe", channel=CHANNEL)
    assert scheduler.next_run(TEAM_ID, CHANNEL) is None


def test_the_running_scheduler_picks_up_subscriptions_made_by_another_process(
    bot: Bot,
) -> None:
    scheduler = bot.runtime.scheduler
    scheduler.start()
    bot.command("/mission", "subscribe 06:00 daily UTC", channel=CHANNEL)
    with bot.database.transaction() as session:
        row = session.scalars(select(Subscription)).one()
        row.post_time = "06:45"
        row.updated_at = dt.datetime.now(dt.UTC)
    scheduler.refresh()
    next_run = scheduler.next_run(TEAM_ID, CHANNEL)
    assert next_run is not None
    assert (next_run.astimezone(dt.UTC).hour, next_run.minute) == (6, 45)


# -- today ------------------------------------------------------------------------------------


def test_today_shows_the_principle_of_the_users_local_date_with_a_share_button(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.add_user(USER, tz="Pacific/Auckland")
    # 20:00 UTC on Monday 12 January is already Tuesday morning in Auckland.
    with time_machine.travel(dt.datetime(2026, 1, 12, 20, 0, tzinfo=dt.UTC)):
        reply = bot.command("/mission", "today", user=USER, channel=CHANNEL)
    assert reply.json["response_type"] == "ephemeral"
    with bot.database.transaction() as session:
        title = principle_for_day(session=session, team_id=TEAM_ID, day=dt.date(2026, 1, 13)).title
    assert f"Principle of the day: {title}" in reply.text
    buttons = reply.json["blocks"][-1]["elements"]
    share = buttons[0]
    assert (share["action_id"], share["value"]) == (Action.SHARE_TODAY, "2026-01-13")
    assert Action.GIVE_KUDOS in [b["action_id"] for b in buttons]


def test_sharing_today_posts_it_in_the_channel_and_removes_the_private_copy(
    bot: Bot, slack: FakeSlack
) -> None:
    reply = bot.command("/mission", "today", channel=CHANNEL)
    value = reply.json["blocks"][-1]["elements"][0]["value"]
    assert bot.interaction(share_payload(bot, value)).status == 200
    [post] = slack.wait_for("chat.postMessage")
    assert post["channel"] == CHANNEL
    assert f"Shared by <@{USER}>" in str(post["blocks"])
    [cleanup] = slack.wait_for("response_url")
    assert cleanup["delete_original"] is True


def test_sharing_where_the_bot_is_not_invited_says_how_to_invite_it(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.fail("chat.postMessage", error="not_in_channel")
    bot.interaction(share_payload(bot, "2026-01-13"))
    [answer] = slack.wait_for("response_url")
    assert "/invite @missionbot" in answer["text"]


def test_help_lists_the_principle_of_the_day_commands(bot: Bot) -> None:
    text = bot.command("/mission", "help").text
    for usage in (
        "/mission today",
        "/mission subscribe",
        "/mission schedule",
        "/mission unsubscribe",
    ):
        assert usage in text
