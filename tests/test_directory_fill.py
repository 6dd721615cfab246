"""A directory that fills at any size, and kudos that never wait for it (issue 23).

The fill: `users.list` a page at a time at Slack's pace, each page stored with the next page's
cursor under a lease, so a failed page, a 429, a restart, a cursor Slack no longer accepts and
a second process all leave one complete directory. The kudos: someone Slack can't describe in
time is taken as a person, the kudos recorded and answered at once, and checked afterwards;
a receiver who turns out to be a bot or gone has it withdrawn, and the giver is told why.

SLACK_RATE_SCALE=100 here: Slack's limits and the bot's pace in the same ratios, 100 times faster.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.db.models import DirectoryFill, KudosAllowance, Person, PersonCheck
from bot.slack.deadline import ACK_LIMITS
from bot.slack.users import DirectorySync, FillOutcome, UserDirectory
from bot.slack.web import create_web_client
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack, default_user
from tests.support.kudos import kudos_rows
from tests.support.stall import note_deadlines, slack_waits, stopwatch

PRINCIPLE = "plain-words"
# Slack's rule as the bot keeps it (bot/slack/deadline.py): answered within 2.5 s.
DEADLINE_S = ACK_LIMITS.ack


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"slack_rate_scale": 100.0})


def workspace(slack: FakeSlack, count: int, prefix: str = "UPERSON") -> list[str]:
    ids = [f"{prefix}{n:05d}" for n in range(count)]
    for user_id in ids:
        slack.add_user(user_id, tz="Europe/Berlin")
    return ids


def stored(bot: Bot) -> dict[str, Person]:
    with bot.database.reading() as session:
        return {p.user_id: p for p in session.scalars(select(Person))}


def fill_row(bot: Bot) -> DirectoryFill:
    with bot.database.reading() as session:
        row = session.get(DirectoryFill, TEAM_ID)
        assert row is not None
        return row


def another_process(bot: Bot, settings: Settings, **kwargs: Any) -> DirectorySync:
    """A second `serve` process's fill: its own client, cache and lease owner."""
    return DirectorySync(
        create_web_client(settings, retries=0),
        UserDirectory(bot.database),
        scale=settings.slack_rate_scale,
        **kwargs,
    )


def after_pages(slack: FakeSlack, pages: int, then: Callable[[], None]) -> None:
    """Run `then` once `pages` pages of users.list have been answered (before the next)."""
    original = slack._api_users_list
    answered = [0]

    def answer(params: dict[str, Any]) -> dict[str, Any]:
        page = original(params)
        answered[0] += 1
        if answered[0] == pages:
            then()
        return page

    slack._api_users_list = answer  # type: ignore[method-assign]


def cursors(slack: FakeSlack) -> list[str | None]:
    return [c.get("cursor") or None for c in slack.calls("users.list")]


# -- the fill -------------------------------------------------------------------------------
def test_the_fill_asks_200_a_page_with_locales_and_stores_everyone(
    bot: Bot, slack: FakeSlack
) -> None:
    workspace(slack, 1000)
    assert bot.runtime.people.sync_once() == 1000
    assert len(stored(bot)) == 1000
    calls = slack.calls("users.list")  # slack-sdk sends True as 1
    assert len(calls) == 5
    assert {(c["limit"], c["include_locale"]) for c in calls} == {("200", "1")}
    row = fill_row(bot)
    assert (row.pages, row.people, row.cursor, row.lease_owner) == (5, 1000, None, None)
    assert row.finished_at is not None


def test_a_page_that_fails_midway_is_resumed_there_not_from_page_one(
    bot: Bot, slack: FakeSlack
) -> None:
    workspace(slack, 1000)
    after_pages(slack, 2, lambda: slack.fail("users.list", status=500))
    assert bot.runtime.people.sync_once() == 400
    assert len(stored(bot)) == 400
    failed_at = cursors(slack)[2]
    assert failed_at is not None
    assert fill_row(bot).cursor == failed_at
    slack.reset_calls()

    assert bot.runtime.people.fill(TEAM_ID).outcome is FillOutcome.FINISHED
    assert cursors(slack)[0] == failed_at  # resumed at the failed page
    assert len(slack.calls("users.list")) == 3
    assert len(stored(bot)) == 1000


def test_a_429_is_waited_out_and_the_same_page_asked_again(bot: Bot, slack: FakeSlack) -> None:
    workspace(slack, 1000)
    after_pages(slack, 2, lambda: slack.fail("users.list", status=429, retry_after=2))
    result = bot.runtime.people.fill(TEAM_ID)
    assert (result.outcome, result.copied, result.limited) == (FillOutcome.FINISHED, 1000, 1)
    asked = cursors(slack)
    assert asked[2] == asked[3]
    assert asked[2] is not None
    assert asked.count(None) == 1  # page one only once
    refused, again = slack.calls("users.list")[2:4]
    # Retry-After 2 s of Slack's time at the scale of 100: 20 ms at least, and not Slack's
    # whole 2 s (what a busy machine adds to the 20 ms is far less than that).
    assert 0.02 <= again.at - refused.at < 2


def test_a_restart_resumes_from_the_stored_cursor(
    bot: Bot, slack: FakeSlack, settings: Settings
) -> None:
    workspace(slack, 1000)
    first = another_process(bot, settings)
    # The first process stops (a deploy) after two pages: its fill is where it stopped.
    after_pages(slack, 2, first.stop)
    assert first.fill(TEAM_ID).outcome is FillOutcome.STOPPED
    stopped_at = fill_row(bot).cursor
    assert stopped_at is not None
    assert len(stored(bot)) == 400
    slack.reset_calls()

    restarted = another_process(bot, settings)
    assert restarted.fill(TEAM_ID).outcome is FillOutcome.FINISHED
    assert cursors(slack)[0] == stopped_at
    assert len(stored(bot)) == 1000


def test_a_process_that_died_holding_the_fill_is_taken_over_once_its_lease_runs_out(
    bot: Bot, slack: FakeSlack, settings: Settings
) -> None:
    workspace(slack, 600)
    now = [dt.datetime.now(dt.UTC)]
    dead = another_process(bot, settings, clock=lambda: now[0])
    # It dies after one page: no release, its lease stands.
    after_pages(slack, 1, lambda: slack.fail("users.list", status=500))
    dead.fill(TEAM_ID)
    with bot.database.transaction() as session:
        row = session.get(DirectoryFill, TEAM_ID)
        assert row is not None
        row.lease_owner, row.lease_until = dead.owner, now[0] + dt.timedelta(seconds=60)
    slack.reset_calls()

    other = another_process(bot, settings, clock=lambda: now[0])
    assert other.fill(TEAM_ID).outcome is FillOutcome.HELD_ELSEWHERE
    assert slack.calls("users.list") == []
    now[0] += dt.timedelta(seconds=61)
    assert other.fill(TEAM_ID).outcome is FillOutcome.FINISHED
    assert cursors(slack)[0] is not None  # from where the dead one stopped
    assert len(stored(bot)) == 600


def test_two_processes_fill_the_directory_once(
    bot: Bot, slack: FakeSlack, settings: Settings
) -> None:
    workspace(slack, 1000)
    slack.slow("users.list", 0.1)
    first, second = another_process(bot, settings), another_process(bot, settings)
    results = {}

    def run(name: str, sync: DirectorySync) -> None:
        results[name] = sync.fill(TEAM_ID)

    threads = [threading.Thread(target=run, args=p) for p in (("a", first), ("b", second))]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=30)
    outcomes = sorted(r.outcome for r in results.values())
    assert outcomes == sorted([FillOutcome.FINISHED, FillOutcome.HELD_ELSEWHERE])
    assert len(slack.calls("users.list")) == 5  # every page once
    # Once it is complete, the other process finds nothing to do.
    assert second.fill(TEAM_ID).outcome is FillOutcome.FINISHED
    assert len(slack.calls("users.list")) == 5
    assert len(stored(bot)) == 1000


def test_a_cursor_slack_no_longer_accepts_starts_again_without_duplicates(
    bot: Bot, slack: FakeSlack
) -> None:
    workspace(slack, 1000)
    after_pages(slack, 2, lambda: slack.fail("users.list", error="invalid_cursor"))
    assert bot.runtime.people.fill(TEAM_ID).outcome is FillOutcome.FINISHED
    assert cursors(slack).count(None) == 2  # page one, then page one again
    assert len(stored(bot)) == 1000
    row = fill_row(bot)
    assert (row.pages, row.people) == (5, 1000)


def test_someone_removed_while_the_directory_fills_shifts_nobody_else(
    bot: Bot, slack: FakeSlack
) -> None:
    people = workspace(slack, 1000)
    # Gone after page one: the first of page two (the cursor's own person) and one of page three.
    gone = [people[200], people[450]]
    after_pages(slack, 1, lambda: [slack.users.pop(user_id) for user_id in gone])
    bot.runtime.people.sync_once()
    assert set(stored(bot)) == set(people) - set(gone)


def test_a_deactivation_reported_while_its_page_was_on_the_way_is_not_undone_by_the_page(
    bot: Bot, slack: FakeSlack
) -> None:
    people = workspace(slack, 400)
    leaver = people[10]
    original = slack._api_users_list

    def page_then_event(params: dict[str, Any]) -> dict[str, Any]:
        page = original(params)  # drawn before the deactivation: the leaver still active
        if not params.get("cursor"):
            event = {"type": "user_change", "user": {**default_user(leaver), "deleted": True}}
            assert bot.event(event).status == 200
            bot.deliver()
        return page

    slack._api_users_list = page_then_event  # type: ignore[method-assign]
    bot.runtime.people.sync_once()
    assert stored(bot)[leaver].deleted


def test_user_change_for_someone_the_fill_has_not_reached_is_stored(
    bot: Bot, slack: FakeSlack
) -> None:
    workspace(slack, 400)
    newcomer = {**default_user("UZZNEW001"), "tz": "Asia/Kolkata"}
    assert bot.event({"type": "user_change", "user": newcomer}).status == 200
    bot.deliver()
    assert stored(bot)["UZZNEW001"].timezone == "Asia/Kolkata"
    bot.runtime.people.sync_once()
    assert stored(bot)["UZZNEW001"].timezone == "Asia/Kolkata"
    assert len(stored(bot)) == 401


# -- kudos for people the directory doesn't hold yet -------------------------------------------
def kudos(bot: Bot, giver: str, receivers: list[str], words: str = "clear notes") -> str:
    mentions = " ".join(f"<@{r}>" for r in receivers)
    # The code's time, not a busy machine's (tests/support/stall.py); its Slack waits, to show.
    deadlines = note_deadlines(bot.runtime.app)
    with stopwatch() as watch:
        reply = bot.command("/kudos", f"{mentions} #{PRINCIPLE} {words}", user=giver)
    watch.waits = slack_waits(deadlines)
    assert reply.status == 200
    assert watch.code_time() < DEADLINE_S, f"answered after {watch.describe()}"
    return reply.text


def checks_waiting(bot: Bot) -> list[tuple[str, bool]]:
    with bot.database.reading() as session:
        return [(c.user_id, c.giver) for c in session.scalars(select(PersonCheck))]


def run_checks(bot: Bot) -> None:
    checks = bot.runtime.checks
    assert checks is not None
    # A 429's Retry-After (1 s of Slack's time) is 10 ms at this scale.
    time.sleep(0.05)
    while checks.run_due():
        pass


def test_a_storm_from_people_slack_cant_describe_is_all_recorded_and_answered_in_time(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.fail("users.info", status=429, retry_after=600, times=None)
    for n in range(12):
        assert "Kudos recorded" in kudos(bot, f"UGIVE{n:04d}", [f"URECV{n:04d}"])
    assert len(kudos_rows(bot.database)) == 12
    # One 429, then nobody is asked until its Retry-After has passed.
    assert len(slack.calls("users.info")) == 1
    assert len(checks_waiting(bot)) == 24


def test_a_slow_slack_still_gets_the_kudos_recorded_within_the_deadline(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.slow("users.info", 3.0)
    assert "Kudos recorded" in kudos(bot, "UGIVE0001", ["URECV0001", "URECV0002"])
    assert len(kudos_rows(bot.database)) == 2
    # The first call timed out; the others were not asked.
    assert len(slack.calls("users.info")) == 1


def test_a_receiver_later_found_to_be_a_bot_has_the_kudos_withdrawn_and_the_giver_is_told(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.add_user("UGIVE0001", tz="Europe/Berlin")
    bot.runtime.people.sync_once()
    slack.fail("users.info", status=429, retry_after=1, times=1)
    assert "Kudos recorded" in kudos(bot, "UGIVE0001", ["UHELPERBOT", "URECV0001"])
    assert sorted(checks_waiting(bot)) == [("UHELPERBOT", False), ("URECV0001", False)]
    slack.add_user("UHELPERBOT", is_bot=True)

    run_checks(bot)
    assert [r.receiver_id for r in kudos_rows(bot.database)] == ["URECV0001"]
    assert checks_waiting(bot) == []
    told = slack.wait_for("chat.postMessage", where=lambda c: c.get("channel") == "UGIVE0001")
    assert "<@UHELPERBOT>" in told[0]["text"]
    assert "is a bot" in told[0]["text"]
    with bot.database.reading() as session:
        assert session.scalar(select(func.sum(KudosAllowance.used))) == 1
    # The bot's DM was never sent; the person's was.
    dms = {c.get("channel") for c in slack.calls("chat.postMessage")}
    assert "URECV0001" in dms
    assert "UHELPERBOT" not in dms


def test_a_receiver_the_fill_finds_deactivated_is_corrected_without_asking_slack(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.add_user("UGIVE0001")
    slack.fail("users.info", status=503, times=None)
    assert "Kudos recorded" in kudos(bot, "UGIVE0001", ["ULEFT0001"])
    slack.recover()
    slack.add_user("ULEFT0001", deleted=True)
    bot.runtime.people.sync_once()
    slack.reset_calls()

    run_checks(bot)
    assert kudos_rows(bot.database) == []
    assert slack.calls("users.info") == []
    told = slack.wait_for("chat.postMessage", where=lambda c: c.get("channel") == "UGIVE0001")
    assert "no longer active" in told[-1]["text"]


def test_someone_slack_still_cant_describe_is_checked_again_later(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.fail("users.info", status=503, times=None)
    kudos(bot, "UGIVE0001", ["URECV0001"])
    run_checks(bot)
    with bot.database.reading() as session:
        attempts = {c.attempts for c in session.scalars(select(PersonCheck))}
    assert attempts == {1}
    assert len(kudos_rows(bot.database)) == 1  # nothing withdrawn on a guess


def test_an_unknown_givers_allowance_counts_in_the_workspaces_usual_timezone(
    bot: Bot, slack: FakeSlack
) -> None:
    for n in range(3):
        slack.add_user(f"UTOKYO{n:03d}", tz="Asia/Tokyo")
    slack.add_user("UBERLIN01", tz="Europe/Berlin")
    bot.runtime.people.sync_once()
    slack.fail("users.info", status=429, retry_after=30, times=None)
    kudos(bot, "UGIVE0001", ["UTOKYO000"])
    with bot.database.reading() as session:
        [allowance] = session.scalars(select(KudosAllowance))
        [check] = session.scalars(select(PersonCheck))
    assert allowance.day == dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()
    assert (check.user_id, check.giver, check.counted_timezone) == (
        "UGIVE0001",
        True,
        "Asia/Tokyo",
    )


def test_kudos_to_yourself_stay_refused_when_slack_cant_say_who_you_are(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.fail("users.info", status=429, retry_after=30, times=None)
    text = kudos(bot, "UGIVE0001", ["UGIVE0001"])
    assert "can't give one to yourself" in text
    assert kudos_rows(bot.database) == []
    assert checks_waiting(bot) == []


def test_a_giver_later_found_to_be_no_person_has_the_whole_kudos_withdrawn_untold(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.fail("users.info", status=429, retry_after=1, times=1)
    assert "Kudos recorded" in kudos(bot, "UGHOST001", ["URECV0001", "URECV0002"])
    slack.add_user("UGHOST001", deleted=True)
    run_checks(bot)
    assert kudos_rows(bot.database) == []
    assert checks_waiting(bot) == []
    bot.deliver()
    assert "UGHOST001" not in {c.get("channel") for c in slack.calls("chat.postMessage")}


def test_two_processes_check_each_person_once(
    bot: Bot, slack: FakeSlack, settings: Settings
) -> None:
    from bot.slack.checks import PersonChecks

    slack.fail("users.info", status=429, retry_after=600, times=None)
    for n in range(5):
        kudos(bot, f"UGIVE{n:04d}", [f"URECV{n:04d}"])
    slack.recover()
    slack.reset_calls()
    workers = [
        PersonChecks(
            create_web_client(settings, retries=0),
            UserDirectory(bot.database),
            bot.database,
            scale=settings.slack_rate_scale,
        )
        for _ in range(2)
    ]
    threads = [threading.Thread(target=w.run_due) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    asked = [c["user"] for c in slack.calls("users.info")]
    assert sorted(asked) == sorted({*asked})  # nobody asked twice
    assert len(asked) == 10
    assert checks_waiting(bot) == []
