"""The App Home publishes only what changed (issue 23): an opening whose Home is current costs
no call; kudos, a new day and a role change make it out of date; publishes go out at Slack's
pace, one per person at a time, and the overnight refresh has today's Home there before 9:00.

Openings are sent as Slack sends them: with the Home Slack keeps, once one was published
(`slack.home_opened`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from bot.blocks.home import HomeContent, home_view
from bot.config import Settings
from bot.db.models import HomeState, OutboxMessage
from bot.home.refresh import HomeRefresh
from bot.home.state import HomeRole, fingerprint
from bot.mission.service import Catalog, PrincipleInfo
from bot.outbox.kinds import OutboxKind
from bot.outbox.queue import Pace
from bot.simulator.limits import SLACK_LIMITS, Limit
from bot.slack.outbound import create_sender
from tests.conftest import Bot, running_bot
from tests.support.fake_slack import FakeSlack, RateLimits
from tests.support.kudos import BEN, DANA, GIVER, outbox_settled
from tests.support.statements import language_only, reads_language, statements_of

PRINCIPLE = "plain-words"


def publishes(slack: FakeSlack, user: str | None = None) -> list[dict[str, Any]]:
    return [c.params for c in slack.calls("views.publish") if user in (None, c["user_id"])]


def shown(slack: FakeSlack, user: str) -> str:
    return json.dumps(slack.homes[user], ensure_ascii=False)


def open_home(bot: Bot, slack: FakeSlack, user: str) -> None:
    assert bot.event(slack.home_opened(user)).status == 200
    bot.deliver()


def unpaced(bot: Bot) -> None:
    """No pace for the Home: a test that stops the clock would otherwise never leave its
    pace's window (the sender counts its recent sends by that clock)."""
    assert bot.runtime.sender is not None
    bot.runtime.sender.paces[OutboxKind.HOME_PUBLISH] = Pace(per_minute=60_000, window_s=1.0)


def state(bot: Bot, user: str) -> HomeState:
    with bot.database.reading() as session:
        found = session.get(HomeState, ("T0TIDEWATER", user))
        assert found is not None
        return found


def test_a_repeat_opening_of_an_unchanged_home_calls_nothing(bot: Bot, slack: FakeSlack) -> None:
    open_home(bot, slack, GIVER)
    [first] = publishes(slack)
    assert first["view"]["private_metadata"].startswith(f"home1:{GIVER}:member:")
    calls = len(slack.calls())
    for _ in range(3):
        open_home(bot, slack, GIVER)
    assert len(slack.calls()) == calls


def test_a_kudos_makes_the_givers_and_receivers_homes_out_of_date(
    bot: Bot, slack: FakeSlack
) -> None:
    for user in (GIVER, DANA, BEN):
        open_home(bot, slack, user)
    assert "0 received, 0 given" in shown(slack, GIVER)
    reply = bot.command("/kudos", f"<@{DANA}> #{PRINCIPLE} clear release notes")
    assert "kudos" in reply.text.lower()
    slack.reset_calls()
    for user in (GIVER, DANA, BEN):
        open_home(bot, slack, user)
    assert sorted(p["user_id"] for p in publishes(slack)) == sorted([DANA, GIVER])
    assert "0 received, 1 given" in shown(slack, GIVER)
    assert "1 received, 0 given" in shown(slack, DANA)
    # Withdrawn: both out of date again.
    bot.command("/kudos", "undo")
    slack.reset_calls()
    for user in (GIVER, DANA, BEN):
        open_home(bot, slack, user)
    assert sorted(p["user_id"] for p in publishes(slack)) == sorted([DANA, GIVER])
    assert "0 received, 0 given" in shown(slack, DANA)


# 2026-03-08: clocks in New York go forward at 2:00 (07:00 UTC).
NEW_YORK_MIDNIGHT = dt.datetime(2026, 3, 8, 5, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("zone", "before", "after", "new_day"),
    [
        # New York's midnight: a new day there, the same day in London and Kolkata.
        ("America/New_York", dt.timedelta(minutes=-30), dt.timedelta(minutes=30), True),
        ("Europe/London", dt.timedelta(minutes=-30), dt.timedelta(minutes=30), False),
        ("Asia/Kolkata", dt.timedelta(minutes=-30), dt.timedelta(minutes=30), False),
        # New York's spring-forward hour (01:59 EST → 03:00 EDT): still the same day.
        ("America/New_York", dt.timedelta(hours=1, minutes=55), dt.timedelta(hours=2), False),
        # Kolkata's midnight (18:30 UTC), in a zone with a half-hour offset.
        (
            "Asia/Kolkata",
            dt.timedelta(hours=13, minutes=25),
            dt.timedelta(hours=13, minutes=35),
            True,
        ),
    ],
)
def test_a_new_local_day_and_only_that_makes_the_home_out_of_date(
    bot: Bot, slack: FakeSlack, zone: str, before: dt.timedelta, after: dt.timedelta, new_day: bool
) -> None:
    unpaced(bot)
    slack.add_user(DANA, tz=zone)
    with time_machine.travel(NEW_YORK_MIDNIGHT + before, tick=False):
        open_home(bot, slack, DANA)
        assert len(publishes(slack)) == 1
    with time_machine.travel(NEW_YORK_MIDNIGHT + after, tick=False):
        open_home(bot, slack, DANA)
    assert len(publishes(slack)) == (2 if new_day else 1)
    day = (NEW_YORK_MIDNIGHT + after).astimezone(ZoneInfo(zone)).date()
    assert f":{day.isoformat()}:" in slack.homes[DANA]["private_metadata"]


def test_a_role_change_republishes_with_the_managers_part(bot: Bot, slack: FakeSlack) -> None:
    open_home(bot, slack, DANA)
    assert "For admins" not in shown(slack, DANA)
    promoted = {**slack.add_user(DANA, is_admin=True)}
    assert bot.event({"type": "user_change", "user": promoted}).status == 200
    bot.deliver()
    open_home(bot, slack, DANA)
    assert len(publishes(slack, DANA)) == 2
    assert "For admins" in shown(slack, DANA)
    assert slack.homes[DANA]["private_metadata"].split(":")[2] == HomeRole.MANAGER
    # Demoted while that Home is current: the next opening takes the managers' part away.
    demoted = {**slack.add_user(DANA, is_admin=False)}
    assert bot.event({"type": "user_change", "user": demoted}).status == 200
    bot.deliver()
    open_home(bot, slack, DANA)
    assert len(publishes(slack, DANA)) == 3
    assert "For admins" not in shown(slack, DANA)


def test_a_hash_conflict_is_dropped_not_retried(bot: Bot, slack: FakeSlack) -> None:
    open_home(bot, slack, DANA)
    bot.command("/kudos", f"<@{DANA}> #{PRINCIPLE} thanks", user=GIVER)
    # Opened with the Home as it is; before the publish goes out, another one lands.
    assert bot.event(slack.home_opened(DANA)).status == 200
    bot.listeners.wait_idle(5)
    slack.homes[DANA]["hash"] = "published-meanwhile"
    bot.deliver()
    outbox_settled(bot.database)
    assert len(publishes(slack, DANA)) == 2  # the first, and the refused one: no retry
    with bot.database.reading() as session:
        reasons = session.scalars(
            select(OutboxMessage.last_error).where(
                OutboxMessage.kind == OutboxKind.HOME_PUBLISH, OutboxMessage.status == "failed"
            )
        ).all()
    assert reasons == ["hash_conflict"]
    # The next opening may publish again.
    assert state(bot, DANA).publish_queued_at is None
    open_home(bot, slack, DANA)
    assert len(publishes(slack, DANA)) == 3


# -- at Slack's pace ----------------------------------------------------------------------------
# Slack's limits ten times faster, and the bot's pace with them: the same ratio, a tenth of
# the time.
FAST = 10


@pytest.fixture
def limited_slack() -> Iterator[FakeSlack]:
    limits = {
        method: Limit(limit.per_minute * FAST, limit.burst, limit.per_channel)
        for method, limit in SLACK_LIMITS.items()
    }
    fake = FakeSlack(rate_limits=RateLimits(limits)).start()
    yield fake
    fake.stop()


@pytest.fixture
def limited_settings(settings: Settings, limited_slack: FakeSlack) -> Settings:
    return settings.model_copy(update={"slack_api_url": limited_slack.api_url})


def fast_pace(bot: Bot) -> None:
    assert bot.runtime.sender is not None
    bot.runtime.sender.paces[OutboxKind.HOME_PUBLISH] = Pace(
        per_minute=95 * FAST, window_s=1.0, newest_first=True
    )


@pytest.mark.concurrent
def test_200_openers_in_a_minute_all_get_their_home_without_a_429(
    limited_settings: Settings, limited_slack: FakeSlack
) -> None:
    slack = limited_slack
    people = [f"UOPEN{n:04d}" for n in range(200)]
    with running_bot(limited_settings, slack, concurrent=True) as bot:
        fast_pace(bot)
        started = time.monotonic()
        for n, user in enumerate(people):
            # 200 openings over a (tenfold) minute.
            time.sleep(max(started + n * (60 / FAST) / len(people) - time.monotonic(), 0))
            assert bot.event(slack.home_opened(user)).status == 200
        deadline = time.monotonic() + 60
        while len(slack.homes) < len(people) and time.monotonic() < deadline:
            time.sleep(0.2)
        published = Counter(c["user_id"] for c in slack.calls("views.publish"))
        refused = [c for c in slack.calls("views.publish") if c.failed]
        assert set(slack.homes) == set(people)
        assert refused == []
        assert max(published.values()) == 1
        # Opened again: every Home is current.
        before = len(slack.calls())
        for user in people[:50]:
            assert bot.event(slack.home_opened(user)).status == 200
        bot.deliver()
        after = slack.calls()[before:]
        assert [(c.method, c.get("user")) for c in after] == []


@pytest.mark.concurrent
def test_two_senders_on_one_database_never_publish_one_person_twice(
    bot: Bot, slack: FakeSlack
) -> None:
    assert bot.runtime.sender is not None
    other = create_sender(bot.runtime.settings, bot.database)
    for sender in (bot.runtime.sender, other):
        sender.paces[OutboxKind.HOME_PUBLISH] = Pace(per_minute=6000, window_s=1.0)
    other.start()
    try:
        people = [f"UTWICE{n:03d}" for n in range(60)]
        for user in people:
            assert bot.event(slack.home_opened(user)).status == 200
        # A kudos in the middle: its two people's Homes change while publishes are queued.
        bot.command("/kudos", f"<@{people[0]}> #{PRINCIPLE} thanks", user=people[1])
        deadline = time.monotonic() + 60
        while len(slack.homes) < len(people) and time.monotonic() < deadline:
            time.sleep(0.1)
        outbox_settled(bot.database, timeout=30)
    finally:
        other.stop()
    published = Counter(c["user_id"] for c in slack.calls("views.publish"))
    assert set(published) == set(people)
    assert max(published.values()) == 1


# -- the overnight refresh ----------------------------------------------------------------------
YESTERDAY_9 = dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC)


def test_the_overnight_refresh_has_todays_home_there_by_9(bot: Bot, slack: FakeSlack) -> None:
    unpaced(bot)
    active = [f"UACTIVE{n:02d}" for n in range(5)]
    for user in active:
        slack.add_user(user, tz="Europe/London")
    slack.add_user("UNIGHTOWL", tz="America/Los_Angeles")
    slack.add_user("UGONE0001", tz="Europe/London")
    with time_machine.travel(YESTERDAY_9 - dt.timedelta(days=31), tick=False):
        open_home(bot, slack, "UGONE0001")  # not seen for a month: not refreshed
    with time_machine.travel(YESTERDAY_9, tick=False):
        for user in [*active, "UNIGHTOWL"]:
            open_home(bot, slack, user)
    refresh = HomeRefresh(bot.database, clock=bot.runtime.clock, per_minute=40)
    # 04:00 in London: too early.
    with time_machine.travel(dt.datetime(2026, 4, 21, 3, 0, tzinfo=dt.UTC), tick=False):
        assert refresh.run_due() == 0
    slack.reset_calls()
    # 06:00 in London (22:00 the day before in Los Angeles): London's Homes, once.
    morning = dt.datetime(2026, 4, 21, 5, 0, tzinfo=dt.UTC)
    with time_machine.travel(morning, tick=False):
        assert refresh.run_due() == 5
        assert refresh.run_due() == 0
    with time_machine.travel(morning + dt.timedelta(minutes=5), tick=False):
        bot.deliver()
    assert sorted(p["user_id"] for p in publishes(slack)) == active
    for user in active:
        assert ":2026-04-21:" in slack.homes[user]["private_metadata"]
    # 9:00: everyone refreshed opens the Home and finds today's principle there, no call.
    slack.reset_calls()
    with time_machine.travel(dt.datetime(2026, 4, 21, 8, 0, tzinfo=dt.UTC), tick=False):
        for user in active:
            open_home(bot, slack, user)
    assert slack.calls("views.publish") == []
    assert (
        fingerprint(user_id=active[0], role="member", day=dt.date(2026, 4, 21), version=0)
        == slack.homes[active[0]]["private_metadata"]
    )


def test_two_refresh_jobs_at_once_queue_each_home_once(bot: Bot, slack: FakeSlack) -> None:
    unpaced(bot)
    people = [f"UREFR{n:03d}" for n in range(30)]
    for user in people:
        slack.add_user(user, tz="Europe/London")
    with time_machine.travel(YESTERDAY_9, tick=False):
        for user in people:
            open_home(bot, slack, user)
    jobs = [HomeRefresh(bot.database, clock=bot.runtime.clock, per_minute=60) for _ in range(2)]
    counts: list[int] = []
    with time_machine.travel(dt.datetime(2026, 4, 21, 5, 0, tzinfo=dt.UTC), tick=False):
        barrier = threading.Barrier(2)

        def run(job: HomeRefresh) -> None:
            barrier.wait()
            counts.append(job.run_due())

        threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(counts) == 30
    with bot.database.reading() as session:
        queued = session.scalars(
            select(OutboxMessage.channel_id).where(
                OutboxMessage.kind == OutboxKind.HOME_PUBLISH, OutboxMessage.status == "pending"
            )
        ).all()
    assert sorted(queued) == people


def test_a_home_over_slacks_size_limit_loses_principles_and_keeps_its_fingerprint() -> None:
    principles = tuple(
        PrincipleInfo(n, f"p{n}", "x" * 2900, None, None, None, n) for n in range(1, 96)
    )
    catalog = Catalog("Our mission", None, principles)
    view = home_view(HomeContent(GIVER, catalog, principles[0], None, None), fingerprint="home1:x")
    size = len(json.dumps(view, ensure_ascii=False).encode())
    assert size <= 250_000
    assert len(view["blocks"]) <= 100
    assert view["private_metadata"] == "home1:x"
    assert "/kudos help" in json.dumps(view["blocks"][-1])  # the footer stays
    assert "Today's principle" in json.dumps(view)


def test_home_publishes_are_claimed_newest_first_within_their_pace(database: Any) -> None:
    from bot.outbox import queue

    start = dt.datetime(2026, 4, 21, 8, 0, tzinfo=dt.UTC)
    with database.transaction() as session:
        for n in range(30):
            queue.enqueue(
                session,
                team_id="T1",
                kind=OutboxKind.HOME_PUBLISH,
                channel_id=f"U{n:03d}",
                subject=f"U{n:03d}",
                now=start + dt.timedelta(seconds=n),
            )
    pace = Pace(per_minute=60, window_s=10.0, newest_first=True)  # 10 in any 10 s
    now = start + dt.timedelta(minutes=1)

    def claim(at: dt.datetime, owner: str) -> list[str]:
        with database.transaction() as session:
            groups = queue.claim(
                session,
                owner=owner,
                now=at,
                lease=dt.timedelta(seconds=60),
                kinds=[OutboxKind.HOME_PUBLISH],
                channels=50,
                paces={OutboxKind.HOME_PUBLISH: pace},
            )
        return [group[0].channel_id for group in groups]

    first = claim(now, "a")
    assert first == [f"U{n:03d}" for n in range(29, 19, -1)]  # the newest ten
    assert claim(now, "b") == []  # another process: the window is full
    assert len(claim(now + dt.timedelta(seconds=61), "b")) == 10  # leases ran out: room again


def test_an_opening_reads_the_readers_language_in_no_statement_of_its_own(
    bot: Bot, slack: FakeSlack
) -> None:
    reader = "UHOMELANG"
    slack.add_user(reader, locale="de-DE")
    open_home(bot, slack, reader)  # the first: the directory learns them, the Home is drawn
    assert publishes(slack, reader)
    published = len(publishes(slack, reader))
    home_rows = ("home_states",)

    def opening() -> None:
        assert bot.event(slack.home_opened(reader)).status == 200
        bot.listeners.wait_idle(10)

    # A repeat opening of the current Home (the read-only look), then one that records a
    # change (their locale is now French: the Home is redrawn, so it is read under lock).
    for expected_language in ("de", "fr"):
        if expected_language == "fr":
            french = slack.add_user(reader, locale="fr-FR")
            assert bot.event({"type": "user_change", "user": french}).status == 200
            bot.deliver()
        sent = statements_of(bot.database.engine, opening)
        bot.deliver()
        # The count without the language: the same statements less any that only read it.
        without_language = [s for s in sent if not language_only(s, along_with=home_rows)]
        assert len(sent) == len(without_language), sent
        assert any(reads_language(s) for s in sent), sent  # read all the same, with the row
        metadata = publishes(slack, reader)[-1]["view"]["private_metadata"]
        assert metadata.endswith(f":{expected_language}"), metadata
    assert len(publishes(slack, reader)) == published + 1  # the repeat published nothing
