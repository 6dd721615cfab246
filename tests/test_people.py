"""The people directory: answering someone never waits on Slack's rate-limited users.info.

users.list fills it (a page at a time), user_change and team_join keep it current, and
users.info is asked only about someone it doesn't know yet — once, whatever the process.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.db.models import Person
from bot.slack.users import UserDirectory
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack, default_user
from tests.support.kudos import kudos_rows

PRINCIPLE = "plain-words"


def people_stored(bot: Bot) -> int:
    with bot.database.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Person)) or 0)


def workspace(slack: FakeSlack, count: int) -> list[str]:
    ids = [f"UPERSON{n:04d}" for n in range(count)]
    for user_id in ids:
        slack.add_user(user_id, tz="Europe/Berlin")
    return ids


def give(bot: Bot, giver: str, receiver: str, words: str = "clear notes") -> None:
    reply = bot.command("/kudos", f"<@{receiver}> #{PRINCIPLE} {words}", user=giver)
    assert reply.status == 200


def test_users_list_fills_the_directory_a_page_at_a_time(bot: Bot, slack: FakeSlack) -> None:
    workspace(slack, 450)
    assert bot.runtime.people.sync_once() == 450
    assert people_stored(bot) == 450
    assert len(slack.calls("users.list")) == 3  # 200 + 200 + 50


def test_after_the_sync_a_burst_of_kudos_asks_slack_about_nobody(
    bot: Bot, slack: FakeSlack
) -> None:
    people = workspace(slack, 40)
    bot.runtime.people.sync_once()
    for giver, receiver in zip(people[:20], people[20:], strict=True):
        give(bot, giver, receiver)
    assert len(kudos_rows(bot.database)) == 20
    assert slack.calls("users.info") == []


def test_someone_the_directory_lacks_is_asked_about_once_whatever_the_process(
    bot: Bot, slack: FakeSlack
) -> None:
    giver, receiver = workspace(slack, 2)
    give(bot, giver, receiver)
    asked = {c["user"] for c in slack.calls("users.info")}
    assert asked == {giver, receiver}
    # Another process (an empty in-memory cache) finds them in the database.
    other = UserDirectory(bot.database)
    client: Any = None  # would fail if Slack were asked
    assert other.get(client, TEAM_ID, receiver).timezone == "Europe/Berlin"
    assert len(slack.calls("users.info")) == 2


def user_event(kind: str, user: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "user": user, "cache_ts": 1772700000, "event_ts": "1772700000.000100"}


def test_a_deactivation_reported_by_user_change_refuses_kudos_without_asking_slack(
    bot: Bot, slack: FakeSlack
) -> None:
    giver, receiver = workspace(slack, 2)
    bot.runtime.people.sync_once()
    gone = {**default_user(receiver), "deleted": True}
    assert bot.event(user_event("user_change", gone)).status == 200
    reply = bot.command("/kudos", f"<@{receiver}> #{PRINCIPLE} thanks", user=giver)
    assert "no longer active" in reply.text
    assert kudos_rows(bot.database) == []
    assert slack.calls("users.info") == []


def test_someone_who_just_joined_is_known_at_once(bot: Bot, slack: FakeSlack) -> None:
    [giver] = workspace(slack, 1)
    bot.runtime.people.sync_once()
    newcomer = {**default_user("UNEWCOMER1"), "tz": "Asia/Kolkata"}
    assert bot.event(user_event("team_join", newcomer)).status == 200
    give(bot, giver, "UNEWCOMER1")
    assert [r.receiver_id for r in kudos_rows(bot.database)] == ["UNEWCOMER1"]
    assert slack.calls("users.info") == []


def test_a_failing_users_list_leaves_users_info_to_answer(bot: Bot, slack: FakeSlack) -> None:
    giver, receiver = workspace(slack, 2)
    slack.fail("users.list", status=500, times=10)
    assert bot.runtime.people.sync_once() == 0
    give(bot, giver, receiver)
    assert len(kudos_rows(bot.database)) == 1
