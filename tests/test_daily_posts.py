"""Morning posts: on time in each channel's zone, once, through failures, and after restarts.

The bot is served as in production but its scheduler is not started: each test travels in
time and asks `scheduler.run_due()` / `catch_up()` what to post, deterministically. The posts
go out through the outbox, whose sender runs as under `serve`; `settle` waits for them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from bot.blocks.ids import Action
from bot.cli import main
from bot.daily.flows import Outcome, PostResult
from bot.daily.jobs import DailyScheduler
from bot.daily.rotation import principle_for_day
from bot.daily.schedule import WEEKDAYS, WORKING_DAYS, ScheduleRequest
from bot.daily.subscriptions import subscribe
from bot.db.engine import Database
from bot.db.models import Kudos, Principle, ScheduledPost, Subscription
from bot.outbox.sender import Sender, SenderSettings
from bot.slack.outbound import register_handlers
from bot.slack.outbound.daily import draw_post
from bot.slack.transport import SlackTransport, create_transport_client
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack

LONG_AGO = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)


def at(timezone: str, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=ZoneInfo(timezone))  # type: ignore[misc]


def add_subscription(
    bot: Bot,
    channel: str,
    timezone: str,
    *,
    post_time: str = "09:00",
    weekdays: tuple[str, ...] = WORKING_DAYS,
    made_at: dt.datetime = LONG_AGO,
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    with bot.database.transaction() as session:
        subscribe(
            session=session,
            team_id=TEAM_ID,
            channel_id=channel,
            user_id="UANA0001",
            request=ScheduleRequest(post_time, weekdays, timezone),
            default_timezone=None,
            now=made_at,
        )


def posts_in(slack: FakeSlack, channel: str) -> list[dict[str, object]]:
    return [c.params for c in slack.calls("chat.postMessage") if c["channel"] == channel]


def claims(database: Database) -> list[ScheduledPost]:
    with database.transaction() as session:
        return list(session.scalars(select(ScheduledPost).order_by(ScheduledPost.local_date)))


def principle_title(database: Database, day: dt.date) -> str:
    with database.transaction() as session:
        return principle_for_day(session=session, team_id=TEAM_ID, day=day).title


def another_scheduler(
    bot: Bot, database: Database | None = None, **changes: object
) -> DailyScheduler:
    settings = bot.runtime.settings.model_copy(update=changes)
    return DailyScheduler(settings, database or bot.database, draw_post)


def sent(results: list[PostResult], scheduler: DailyScheduler) -> list[PostResult]:
    """The results once the outbox has sent (or given up on) the posts they queued."""
    settled = scheduler.settle(results, timeout=20)
    assert Outcome.QUEUED not in [r.outcome for r in settled]
    return settled


@pytest.fixture
def scheduler(bot: Bot) -> DailyScheduler:
    return bot.runtime.scheduler


@pytest.fixture
def quick_scheduler(bot: Bot) -> Iterator[DailyScheduler]:
    """A scheduler whose outbox retries back off in milliseconds and give up after four tries
    (or five seconds). Without the channel's 1 s pacing, which would space the retries out more
    than their backoff, and make a failing post wait three seconds more before it is failed."""
    assert bot.runtime.sender is not None
    bot.runtime.sender.stop()
    quick_sender = Sender(
        bot.database,
        SlackTransport(create_transport_client(bot.runtime.settings)),
        settings=SenderSettings(
            backoff_first=0.05, max_attempts=4, max_age=dt.timedelta(seconds=5), poll=0.05
        ),
    )
    quick_sender.skip_pacing()
    register_handlers(quick_sender)
    quick_sender.start()
    quick = DailyScheduler(
        bot.runtime.settings, bot.database, draw_post, notify=quick_sender.notify
    )
    yield quick
    quick.shutdown()
    quick_sender.stop()


# -- on time, in the channel's zone ------------------------------------------------------------


@pytest.mark.parametrize("timezone", ["America/New_York", "Asia/Kolkata", "Pacific/Auckland"])
def test_the_morning_post_goes_out_at_0900_local_once(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler, timezone: str
) -> None:
    add_subscription(bot, "CMORNING1", timezone)
    with time_machine.travel(at(timezone, 2026, 1, 13, 8, 59)):
        assert scheduler.run_due() == []
    with time_machine.travel(at(timezone, 2026, 1, 13, 9, 0)):
        [result] = sent(scheduler.run_due(), scheduler)
        assert scheduler.run_due() == []
    assert result.outcome == Outcome.SENT
    assert result.local_date == dt.date(2026, 1, 13)
    [post] = posts_in(slack, "CMORNING1")
    title = principle_title(bot.database, dt.date(2026, 1, 13))
    assert post["text"].startswith(f"Principle of the day: {title}")  # type: ignore[union-attr]
    [claim] = claims(bot.database)
    assert (claim.status, claim.message_ts, claim.attempts) == ("sent", result.message_ts, 1)


@pytest.mark.parametrize(
    "day",
    [dt.date(2026, 3, 8), dt.date(2026, 11, 1)],
    ids=["spring-forward", "fall-back"],
)
def test_on_a_dst_change_day_the_post_is_at_0900_new_local_time(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler, day: dt.date
) -> None:
    add_subscription(bot, "CDST00001", "America/New_York", weekdays=WEEKDAYS)
    local_nine = dt.datetime.combine(day, dt.time(9), tzinfo=ZoneInfo("America/New_York"))
    with time_machine.travel(local_nine - dt.timedelta(minutes=1)):
        assert scheduler.run_due() == []
    with time_machine.travel(local_nine):
        assert [r.outcome for r in sent(scheduler.run_due(), scheduler)] == [Outcome.SENT]
    with time_machine.travel(local_nine + dt.timedelta(hours=1)):
        assert scheduler.run_due() == []
    assert len(posts_in(slack, "CDST00001")) == 1
    assert [c.local_date for c in claims(bot.database)] == [day]


def test_weekday_channels_get_nothing_at_the_weekend_in_their_own_zone(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CWEEKDAY1", "Pacific/Auckland")
    # Saturday 09:30 in Auckland (Friday in UTC), then Monday 09:00 there (Sunday in UTC).
    with time_machine.travel(at("Pacific/Auckland", 2026, 1, 17, 9, 30)):
        assert scheduler.run_due() == []
    with time_machine.travel(at("Pacific/Auckland", 2026, 1, 19, 9, 0)):
        [result] = sent(scheduler.run_due(), scheduler)
    assert result.local_date == dt.date(2026, 1, 19)
    assert len(posts_in(slack, "CWEEKDAY1")) == 1


def test_channels_in_different_zones_share_the_principle_of_their_date(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CKOLKATA1", "Asia/Kolkata")
    add_subscription(bot, "CNEWYORK1", "America/New_York")
    with time_machine.travel(at("Asia/Kolkata", 2026, 1, 13, 9, 0)):
        sent(scheduler.run_due(), scheduler)
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 9, 0)):
        sent(scheduler.run_due(), scheduler)
    kolkata, new_york = posts_in(slack, "CKOLKATA1"), posts_in(slack, "CNEWYORK1")
    assert len(kolkata) == len(new_york) == 1
    assert kolkata[0]["text"] == new_york[0]["text"]


# -- the card ----------------------------------------------------------------------------------


def test_the_card_shows_category_and_a_recent_kudos_and_a_give_kudos_button(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CCARD0001", "America/New_York")
    day = dt.date(2026, 1, 13)
    with bot.database.transaction() as session:
        principle_id = principle_for_day(session=session, team_id=TEAM_ID, day=day).id
        principle = session.get_one(Principle, principle_id)
        for receiver in ("UBEN0001", "UCARA001"):
            session.add(
                Kudos(
                    team_id=TEAM_ID,
                    group_id="g1",
                    giver_id="UANA0001",
                    receiver_id=receiver,
                    principle_id=principle_id,
                    message="answered the customer's 6 a.m. call & sorted the <customs> form",
                    source="command",
                    audience="public",
                    created_at=dt.datetime(2026, 1, 12, 15, 0, tzinfo=dt.UTC),
                )
            )
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 9, 0)):
        sent(scheduler.run_due(), scheduler)
    [post] = posts_in(slack, "CCARD0001")
    blocks = post["blocks"]
    assert isinstance(blocks, list)
    assert blocks[0]["text"]["text"] == f"Principle of the day: {principle.title}"
    everything = str(blocks)
    assert principle.category is not None
    assert f"*{principle.category}*" in everything
    assert "<@UANA0001> to <@UBEN0001>, <@UCARA001>" in everything
    assert "6 a.m. call &amp; sorted the &lt;customs&gt; form" in everything
    [button] = blocks[-1]["elements"]
    assert (button["action_id"], button["value"]) == (Action.GIVE_KUDOS, principle.key)


def test_without_kudos_the_card_has_no_example(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CCARD0002", "America/New_York")
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 9, 0)):
        sent(scheduler.run_due(), scheduler)
    [post] = posts_in(slack, "CCARD0002")
    assert "Lived recently" not in str(post["blocks"])


# -- exactly once ------------------------------------------------------------------------------


def test_two_schedulers_racing_on_one_database_send_one_post(
    bot: Bot, slack: FakeSlack, db_url: str
) -> None:
    add_subscription(bot, "CRACE0001", "America/New_York")
    other_database = Database(db_url)
    racers = [
        bot.runtime.scheduler,
        another_scheduler(bot, other_database),
    ]
    start = threading.Barrier(len(racers))
    outcomes: list[Outcome] = []

    def race(scheduler: DailyScheduler) -> None:
        start.wait()
        outcomes.extend(r.outcome for r in sent(scheduler.run_due(), scheduler))

    try:
        with time_machine.travel(at("America/New_York", 2026, 1, 13, 9, 0, 5)):
            threads = [threading.Thread(target=race, args=(s,)) for s in racers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
    finally:
        other_database.dispose()
    assert len(posts_in(slack, "CRACE0001")) == 1
    assert outcomes.count(Outcome.SENT) == 1
    assert len(claims(bot.database)) == 1


def test_a_rate_limited_post_waits_retry_after_then_goes_out_once(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CRATE0001", "Asia/Kolkata")
    slack.fail("chat.postMessage", status=429, retry_after=1)
    with time_machine.travel(at("Asia/Kolkata", 2026, 1, 13, 9, 0), tick=True):
        [result] = sent(scheduler.run_due(), scheduler)
    assert result.outcome == Outcome.SENT
    first, second = slack.calls("chat.postMessage")
    assert second.at - first.at >= 1.0
    [claim] = claims(bot.database)
    # A 429 costs the post no attempt: it was the workspace's limit, not the post.
    assert (claim.status, claim.attempts) == ("sent", 1)


@pytest.mark.concurrent  # the sender's workers wait at the workspace's gate together
def test_a_rate_limit_holds_back_the_other_channels_posts_until_retry_after(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CRATE0001", "Asia/Kolkata")
    add_subscription(bot, "CRATE0002", "Asia/Kolkata")
    slack.fail("chat.postMessage", status=429, retry_after=1)
    assert bot.runtime.sender is not None
    gate = bot.runtime.sender.gates[TEAM_ID]
    with time_machine.travel(at("Asia/Kolkata", 2026, 1, 13, 9, 0), tick=True):
        queued = scheduler.run_due(channel=(TEAM_ID, "CRATE0001"))
        slack.wait_for("chat.postMessage")
        deadline = time.monotonic() + 5
        while not gate.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gate.closed
        # Another channel's post, after the 429: it waits too rather than collect its own.
        queued += scheduler.run_due(channel=(TEAM_ID, "CRATE0002"))
        outcomes = [r.outcome for r in sent(queued, scheduler)]
    assert outcomes == [Outcome.SENT, Outcome.SENT]
    refused, *posted = slack.calls("chat.postMessage")
    assert sorted(c["channel"] for c in posted) == ["CRATE0001", "CRATE0002"]
    assert all(c.at - refused.at >= 1.0 for c in posted)


def test_server_errors_back_off_and_then_succeed(
    bot: Bot, slack: FakeSlack, quick_scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CBACKOFF1", "America/New_York")
    slack.fail("chat.postMessage", status=503, times=2)
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 9, 0), tick=True):
        [result] = sent(quick_scheduler.run_due(), quick_scheduler)
    assert result.outcome == Outcome.SENT
    calls = slack.calls("chat.postMessage")
    assert len(calls) == 3
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(calls)]
    assert gaps[0] >= 0.05
    assert gaps[1] >= 0.1


def test_a_post_that_keeps_failing_is_marked_failed_and_retried_at_the_next_start_that_day(
    bot: Bot, slack: FakeSlack, quick_scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CFAIL0001", "America/New_York")
    slack.fail("chat.postMessage", status=500, times=1000)
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 9, 0), tick=True):
        [result] = sent(quick_scheduler.run_due(), quick_scheduler)
    assert result.outcome == Outcome.FAILED
    [claim] = claims(bot.database)
    assert claim.status == "failed"
    assert claim.attempts >= 3

    slack.recover()
    slack.reset_calls()
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 9, 30)):
        assert quick_scheduler.run_due() == []  # the periodic sweep leaves failures alone
    restarted = another_scheduler(bot)
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 11, 0)):
        [retry] = sent(restarted.catch_up(), restarted)
    assert retry.outcome == Outcome.SENT
    assert len(posts_in(slack, "CFAIL0001")) == 1
    assert [c.status for c in claims(bot.database)] == ["sent"]


def test_a_failed_post_of_a_past_day_is_never_retried(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CFAIL0002", "America/New_York")
    slack.fail("chat.postMessage", error="invalid_blocks")
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 9, 0)):
        [result] = sent(scheduler.run_due(), scheduler)
    assert result.outcome == Outcome.FAILED
    slack.reset_calls()
    with time_machine.travel(at("America/New_York", 2026, 1, 14, 8, 0)):
        assert scheduler.catch_up() == []
    assert slack.calls("chat.postMessage") == []


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
def test_a_channel_the_bot_cannot_post_in_pauses_its_subscription_without_retrying(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler, error: str
) -> None:
    add_subscription(bot, "CGONE0001", "America/New_York")
    slack.fail("chat.postMessage", error=error)
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 9, 0)):
        [result] = sent(scheduler.run_due(), scheduler)
    assert (result.outcome, result.detail) == (Outcome.PAUSED, error)
    assert len(slack.calls("chat.postMessage")) == 1
    with bot.database.transaction() as session:
        subscription = session.scalars(select(Subscription)).one()
        assert subscription.paused_reason == error
    with time_machine.travel(at("America/New_York", 2026, 1, 14, 9, 0)):
        assert scheduler.run_due() == []
    assert len(slack.calls("chat.postMessage")) == 1


# -- catch-up after a restart ------------------------------------------------------------------


def test_a_restart_before_the_cutoff_posts_the_missed_morning_post(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CCATCHUP1", "Asia/Kolkata")
    with time_machine.travel(at("Asia/Kolkata", 2026, 1, 13, 16, 45)):
        [result] = sent(scheduler.catch_up(), scheduler)
    assert (result.outcome, result.local_date) == (Outcome.SENT, dt.date(2026, 1, 13))
    assert len(posts_in(slack, "CCATCHUP1")) == 1


def test_a_restart_after_the_cutoff_posts_nothing_and_never_a_past_day(
    bot: Bot, slack: FakeSlack, scheduler: DailyScheduler
) -> None:
    add_subscription(bot, "CCATCHUP2", "America/New_York")
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 17, 0)):
        assert scheduler.catch_up() == []
    with time_machine.travel(at("America/New_York", 2026, 1, 14, 8, 30)):
        assert scheduler.catch_up() == []
    assert slack.calls("chat.postMessage") == []
    with time_machine.travel(at("America/New_York", 2026, 1, 14, 9, 0)):
        [result] = sent(scheduler.run_due(), scheduler)
    assert result.local_date == dt.date(2026, 1, 14)
    assert [c.local_date for c in claims(bot.database)] == [dt.date(2026, 1, 14)]


def test_the_cutoff_is_configurable(bot: Bot, slack: FakeSlack) -> None:
    add_subscription(bot, "CCATCHUP3", "America/New_York")
    settings = bot.runtime.settings.model_copy(update={"missionbot_catchup_cutoff": dt.time(11)})
    early = DailyScheduler(settings, bot.database, draw_post)
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 11, 0)):
        assert early.catch_up() == []
    assert slack.calls("chat.postMessage") == []


# -- missionbot post-today ---------------------------------------------------------------------


@pytest.fixture
def cli_env(bot: Bot, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("DATABASE_URL", bot.database.url)


@pytest.mark.usefixtures("cli_env")
def test_post_today_posts_once_a_day_unless_forced(
    bot: Bot, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    add_subscription(bot, "CCLI00001", "America/New_York")
    add_subscription(bot, "CCLI00002", "Asia/Kolkata")
    with time_machine.travel(at("America/New_York", 2026, 1, 13, 7, 0)):
        assert main(["post-today", "--channel", "CCLI00001"]) == 0
        assert main(["post-today"]) == 0
        assert main(["post-today", "--channel", "CCLI00001", "--force"]) == 0
    output = capsys.readouterr().out.splitlines()
    assert output == [
        "CCLI00001 2026-01-13: sent",
        "CCLI00001 2026-01-13: already claimed",
        "CCLI00002 2026-01-13: sent",
        "CCLI00001 2026-01-13: sent",
    ]
    assert len(posts_in(slack, "CCLI00001")) == 2
    assert len(posts_in(slack, "CCLI00002")) == 1


@pytest.mark.usefixtures("cli_env")
def test_post_today_refuses_an_unsubscribed_channel(
    bot: Bot, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    add_subscription(bot, "CCLI00001", "America/New_York")
    assert main(["post-today", "--channel", "CNOTSUBSCRIBED"]) == 1
    assert "not subscribed" in capsys.readouterr().err
    assert slack.calls("chat.postMessage") == []
