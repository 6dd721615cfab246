"""The onboarding drip: a newcomer gets one principle a working day at 10:00 their time, with a
public kudos that lived it, until they have seen them all; Stop stops it; off by default.
Schedules across timezones and DST, with time travel; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from bot.blocks.ids import Action
from bot.blocks.onboarding import drip_body
from bot.config import Settings
from bot.daily.drip import enrol, next_drip_time, run_due
from bot.db.engine import Database
from bot.db.models import OnboardingDrip, OutboxMessage
from bot.people import find_people
from tests.conftest import Bot, running_bot
from tests.support.fake_slack import TEAM_ID, FakeSlack, default_user
from tests.support.reports import kudos_row, principle_ids, seed, sync

UTC = dt.UTC
NEWCOMER = "UNEWBIE01"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# -- the schedule, by hand -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "timezone", "expected"),
    [
        # New York, Friday 6 March 2026, 07:00 EST: today at 10:00 EST.
        (utc(2026, 3, 6, 12), "America/New_York", utc(2026, 3, 6, 15)),
        # After Friday's: Monday 9 March, and DST began on Sunday 8 March: 10:00 EDT = 14:00 UTC.
        (utc(2026, 3, 6, 15), "America/New_York", utc(2026, 3, 9, 14)),
        # Berlin: Friday 27 March 10:00 CET (09:00 UTC), then Monday 30 March 10:00 CEST.
        (utc(2026, 3, 27, 8), "Europe/Berlin", utc(2026, 3, 27, 9)),
        (utc(2026, 3, 27, 9), "Europe/Berlin", utc(2026, 3, 30, 8)),
        # Kolkata has no DST: 10:00 IST is 04:30 UTC; Saturday's join waits for Monday.
        (utc(2026, 3, 28, 12), "Asia/Kolkata", utc(2026, 3, 30, 4, 30)),
        # Auckland leaves DST on Sunday 5 April: Friday 10:00 NZDT is Thursday 21:00 UTC,
        # Monday 10:00 NZST is Sunday 22:00 UTC.
        (utc(2026, 4, 2, 20), "Pacific/Auckland", utc(2026, 4, 2, 21)),
        (utc(2026, 4, 2, 21), "Pacific/Auckland", utc(2026, 4, 5, 22)),
        # No timezone, or one Slack made up: UTC.
        (utc(2026, 3, 2, 10), None, utc(2026, 3, 3, 10)),
        (utc(2026, 3, 2, 9, 59), "Mars/Olympus", utc(2026, 3, 2, 10)),
    ],
)
def test_the_next_drip_is_10am_on_a_working_day_in_their_timezone(
    after: dt.datetime, timezone: str | None, expected: dt.datetime
) -> None:
    assert next_drip_time(after, timezone) == expected


# -- through the bot ---------------------------------------------------------------------------

# Thursday 5 March 2026, 16:00 UTC: 11:00 in New York, too late for today's 10:00.
JOINED = utc(2026, 3, 5, 16)


@pytest.fixture
def traveller() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(JOINED, tick=True) as coordinates:
        yield coordinates


@pytest.fixture
def drip_bot(
    settings: Settings, slack: FakeSlack, traveller: time_machine.Coordinates
) -> Iterator[Bot]:
    on = settings.model_copy(update={"missionbot_onboarding_drip": True})
    with running_bot(on, slack) as bot:
        bot.traveller = traveller  # type: ignore[attr-defined]
        yield bot


def team_join(user_id: str = NEWCOMER, tz: str = "America/New_York") -> dict[str, Any]:
    user = {**default_user(user_id), "tz": tz}
    return {"type": "team_join", "user": user, "event_ts": "1772700000.000100"}


def blocks_text(call: dict[str, Any]) -> str:
    blocks = call.get("blocks")
    return json.dumps(json.loads(blocks) if isinstance(blocks, str) else blocks, ensure_ascii=False)


def drip_row(bot: Bot, user: str = NEWCOMER) -> OnboardingDrip | None:
    with bot.database.reading() as session:
        return session.scalar(select(OnboardingDrip).where(OnboardingDrip.user_id == user))


def joined(bot: Bot, event: dict[str, Any], user: str = NEWCOMER) -> OnboardingDrip:
    """Send the team_join and wait for its drip: events are handled after their ack."""
    assert bot.event(event).status == 200
    bot.deliver()
    row = drip_row(bot, user)
    assert row is not None, "no drip started"
    return row


def left(bot: Bot, user: str = NEWCOMER) -> None:
    """A user_change deactivating them, waited for in the people directory."""
    gone = {**default_user(user), "deleted": True}
    assert bot.event({"type": "user_change", "user": gone, "event_ts": "1.1"}).status == 200
    deadline = time.monotonic() + 5
    while True:
        bot.deliver()
        with bot.database.reading() as session:
            person = find_people(session=session, team_id=TEAM_ID, user_ids=[user]).get(user)
        if person is not None and person.deleted:
            return
        assert time.monotonic() < deadline, "user_change not handled"
        time.sleep(0.02)


def run_at(bot: Bot, moment: dt.datetime) -> list[Any]:
    """The drip job's run at `moment`; the clock goes on from there (for the outbox)."""
    bot.traveller.move_to(moment)  # type: ignore[attr-defined]
    assert bot.runtime.drip is not None
    return bot.runtime.drip.run_due()


def test_a_newcomer_gets_each_principle_on_working_days_at_ten_until_all_seen(
    drip_bot: Bot, slack: FakeSlack
) -> None:
    bot = drip_bot
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    pids = principle_ids(bot.database, TEAM_ID)
    first_key = "easy-to-reach"
    seed(
        bot.database,
        [
            kudos_row(
                TEAM_ID, "UG1", "UB", pids[first_key], utc(2026, 2, 2, 12), message="public one"
            ),
            # Newer, but in a private channel: never quoted to a newcomer.
            kudos_row(
                TEAM_ID,
                "UG2",
                "UC",
                pids[first_key],
                utc(2026, 3, 1, 12),
                message="private words",
                channel="CSECRET01",
                audience="private",
            ),
        ],
    )
    row = joined(bot, team_join())
    assert row.next_at == utc(2026, 3, 6, 15)  # Friday 10:00 EST

    assert run_at(bot, utc(2026, 3, 6, 14, 59)) == []
    [first] = run_at(bot, utc(2026, 3, 6, 15))
    assert first.principle.key == first_key
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == NEWCOMER)
    shown = blocks_text(dm.params)
    assert "public one" in shown
    assert "private words" not in shown
    assert Action.STOP_ONBOARDING in shown

    # Saturday and Sunday: nothing. Monday after DST: 14:00 UTC.
    assert run_at(bot, utc(2026, 3, 7, 15)) == []
    assert run_at(bot, utc(2026, 3, 8, 15)) == []
    assert run_at(bot, utc(2026, 3, 9, 13, 59)) == []
    sent = [first.principle.key]
    moment = utc(2026, 3, 9, 14)
    while True:
        lessons = run_at(bot, moment)
        if not lessons:
            break
        [lesson] = lessons
        sent.append(lesson.principle.key)
        assert moment.astimezone(dt.timezone(dt.timedelta(hours=-4))).hour == 10
        assert moment.weekday() < 5
        moment += dt.timedelta(days=3 if moment.weekday() == 4 else 1)
    catalog = bot.runtime.mission.catalog(bot.database, TEAM_ID)
    assert sent == [p.key for p in catalog.principles]  # every principle, once, in file order
    row = drip_row(bot)
    assert row is not None
    assert row.ended_reason == "seen all"
    assert run_at(bot, moment + dt.timedelta(days=7)) == []


def test_stop_ends_the_drip(drip_bot: Bot, slack: FakeSlack) -> None:
    bot = drip_bot
    joined(bot, team_join())
    assert len(run_at(bot, utc(2026, 3, 6, 15))) == 1
    payload = bot.button_payload(
        Action.STOP_ONBOARDING, "stop", block_id="drip", user=NEWCOMER, channel="DNEWBIE01"
    )
    assert bot.interaction(payload).status == 200
    slack.wait_for("chat.postMessage", where=lambda c: "no more principles by DM" in str(c.params))
    assert run_at(bot, utc(2026, 3, 9, 14)) == []
    row = drip_row(bot)
    assert row is not None
    assert row.ended_reason == "stopped"


def test_someone_who_leaves_gets_nothing_more(drip_bot: Bot, slack: FakeSlack) -> None:
    bot = drip_bot
    joined(bot, team_join(tz="Europe/Berlin"))
    left(bot)
    assert run_at(bot, utc(2026, 3, 6, 9)) == []
    row = drip_row(bot)
    assert row is not None
    assert row.ended_reason == "left"


def test_joining_twice_starts_one_drip_and_bots_none(drip_bot: Bot) -> None:
    bot = drip_bot
    robot = {**default_user("UROBOT001"), "is_bot": True}
    bot.event({"type": "team_join", "user": robot, "event_ts": "1772700002.000100"})
    joined(bot, team_join())
    bot.event(team_join(tz="Asia/Kolkata"))
    bot.deliver()  # the second team_join and the bot's have been handled by now
    with bot.database.reading() as session:
        rows = session.scalars(select(OnboardingDrip)).all()
    assert [(r.user_id, r.timezone) for r in rows] == [(NEWCOMER, "America/New_York")]


def test_the_drip_is_off_by_default(bot: Bot) -> None:
    assert bot.event(team_join()).status == 200
    bot.deliver()
    assert drip_row(bot) is None


def test_two_processes_running_the_drip_at_once_send_each_dm_once(database: Database) -> None:
    """Two schedulers' runs racing (threads, each with its own connections): every due drip is
    claimed by one of them (FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock on SQLite)."""
    sync(database, TEAM_ID)
    users = [f"UNEW{n:04d}X" for n in range(30)]
    with database.transaction() as session:
        for user in users:
            enrol(session=session, team_id=TEAM_ID, user_id=user, timezone="UTC", now=JOINED)
    due = utc(2026, 3, 6, 10)
    barrier = threading.Barrier(2)

    def run() -> list[str]:
        other = Database(database.url)
        try:
            barrier.wait()
            with other.transaction() as session:
                lessons = run_due(session=session, now=due, render=drip_body)
            return [lesson.user_id for lesson in lessons]
        finally:
            other.dispose()

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: run(), range(2))
    assert sorted(first + second) == sorted(users)
    with database.reading() as session:
        queued = session.scalars(select(OutboxMessage.channel_id)).all()
    assert sorted(queued) == sorted(users)


def test_a_german_newcomer_gets_the_principles_in_german(drip_bot: Bot, slack: FakeSlack) -> None:
    bot = drip_bot
    event = team_join(tz="Europe/Berlin")
    event["user"]["locale"] = "de-DE"
    joined(bot, event)
    [lesson] = run_at(bot, utc(2026, 3, 6, 9))
    assert lesson.language == "de"
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == NEWCOMER)
    shown = blocks_text(dm.params)
    assert "Willkommen! Jeden Arbeitstag einer unserer Grundsätze" in shown
    assert "Sei erreichbar" in shown
    assert "Keine weiteren Nachrichten" in shown
