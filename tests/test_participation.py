"""Participation in Slack (issue 21 item 5): the weekly digest and the managers' App Home show
the share of active people who gave and who received against the period before, how many
nobody recognised in 60 days, and a link to the dashboard when MISSIONBOT_PUBLIC_URL is set."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bot.blocks.ids import Event
from bot.blocks.reports import participation_blocks
from bot.config import Settings
from bot.daily.schedule import WEEKDAYS, ScheduleRequest
from bot.daily.subscriptions import subscribe
from bot.db.models import Person
from bot.reports.summaries import Participation
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.reports import kudos_row, principle_ids, seed

PUBLIC_URL = "https://kudos.example.com/"
ADMIN = "UADMIN001"
ACTIVE = ["UGIVER1", "UGIVER2", "UBEN0002", "UCARL003", "UDANA004"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"missionbot_public_url": PUBLIC_URL})


def people(bot: Bot) -> None:
    """Five active people, one deactivated and one bot (neither counts as active)."""
    with bot.database.transaction() as session:
        for user in ACTIVE:
            session.add(Person(team_id=TEAM_ID, user_id=user, name=user))
        session.add(Person(team_id=TEAM_ID, user_id="UGONE0001", name="gone", deleted=True))
        session.add(Person(team_id=TEAM_ID, user_id="UBOT00001", name="bot", is_bot=True))


def test_the_digest_shows_participation_against_the_week_before_and_links_the_dashboard(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    pid = principle_ids(bot.database, TEAM_ID)["plain-words"]
    people(bot)
    zone = ZoneInfo("Asia/Kolkata")
    with bot.database.transaction() as session:
        subscribe(
            session=session,
            team_id=TEAM_ID,
            channel_id="CDIGEST01",
            user_id=ADMIN,
            request=ScheduleRequest("09:00", WEEKDAYS[1:5], "Asia/Kolkata", digest=True),
            default_timezone=None,
            now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    last_week = dt.datetime(2026, 4, 15, 10, tzinfo=zone)
    week_before = dt.datetime(2026, 4, 8, 10, tzinfo=zone)
    seed(
        bot.database,
        [
            # Last week: 2 of 5 active gave (a deactivated giver doesn't count), 3 received.
            kudos_row(TEAM_ID, "UGIVER1", "UBEN0002", pid, last_week),
            kudos_row(TEAM_ID, "UGIVER2", "UCARL003", pid, last_week),
            kudos_row(TEAM_ID, "UGONE0001", "UDANA004", pid, last_week),
            # The week before: 1 gave, 1 received.
            kudos_row(TEAM_ID, "UGIVER1", "UBEN0002", pid, week_before),
        ],
    )
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, 0, tzinfo=zone)):
        bot.runtime.scheduler.settle(bot.runtime.scheduler.run_due())
    [digest] = [c for c in slack.calls("chat.postMessage") if "Last week in kudos" in c["text"]]
    text = json.dumps(digest.params, ensure_ascii=False)
    assert "*Participation, last week:* 40% (▲ 20 pts) of 5 active people gave kudos" in text
    assert "60% (▲ 40 pts) received" in text
    # UGIVER1 and UGIVER2 received nothing in the 60 days before the digest.
    assert "2 not recognised in 60 days" in text
    assert "<https://kudos.example.com/dashboard|Open the dashboard>" in text


def test_a_managers_home_shows_this_months_participation(bot: Bot, slack: FakeSlack) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    pid = principle_ids(bot.database, TEAM_ID)["plain-words"]
    people(bot)
    slack.add_user(ADMIN, is_admin=True)
    with bot.database.transaction() as session:
        session.add(Person(team_id=TEAM_ID, user_id=ADMIN, name="admin", is_admin=True))
    now = dt.datetime(2026, 4, 20, 15, 0, tzinfo=dt.UTC)
    seed(bot.database, [kudos_row(TEAM_ID, "UGIVER1", "UBEN0002", pid, now - dt.timedelta(days=2))])
    with time_machine.travel(now):
        bot.event({"type": Event.APP_HOME_OPENED, "user": ADMIN, "tab": "home"})
        # The tab is built after the ack, on a listener thread: still in April while it runs.
        view = slack.wait_for("views.publish")[-1]["view"]
    text = view if isinstance(view, str) else json.dumps(view, ensure_ascii=False)
    assert "Participation, April 2026:" in text
    assert "17% (▲ 17 pts) of 6 active people gave kudos" in text
    assert "5 not recognised in 60 days" in text
    assert "kudos.example.com/dashboard" in text


def test_a_non_managers_home_has_no_participation(bot: Bot, slack: FakeSlack) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    people(bot)
    bot.event({"type": Event.APP_HOME_OPENED, "user": "UBEN0002", "tab": "home"})
    view = slack.wait_for("views.publish")[-1]["view"]
    text = view if isinstance(view, str) else json.dumps(view, ensure_ascii=False)
    assert "Participation" not in text
    assert "not recognised" not in text


def test_without_a_public_url_there_is_no_dashboard_link() -> None:
    found = Participation(
        active=10, gave=3, received=4, gave_before=3, received_before=None, not_recognised=6
    )
    [block] = participation_blocks(found, None, "last week")
    text = json.dumps(block.to_dict(), ensure_ascii=False)
    assert "30% (no change) of 10 active people gave kudos, 40% received" in text
    assert "6 not recognised in 60 days" in text
    assert "dashboard" not in text
