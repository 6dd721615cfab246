"""Events about one message take effect in the order Slack sent them (bot/kudos/ordering.py):
a reaction removed (or a kudos message deleted) right after it was added leaves nothing behind,
whichever of the two the bot's threads finish first; and a kudos lasts while any reaction
meaning its principle stands.

The hundred toggles are about real concurrency (`concurrent`: the sender's threads run, as
under `serve`); the others deliver synchronously (`bot.deliver()`, through `wait_until` and
`outbox_settled`)."""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db.models import MessageMark, ProcessedEvent
from tests.conftest import Bot
from tests.support.conversation import (
    message,
    message_deleted,
    new_ts,
    reaction_added,
    reaction_removed,
    wait_until,
)
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import BEN, CARL, DANA, GIVER, allowance_used, kudos_rows, outbox_settled
from tests.support.slack_client import DEFAULT_CHANNEL

TOGGLES = 100
_event_ids = itertools.count()
GIVERS = [f"UTOG{n:05d}" for n in range(10)]
AUTHORS = [BEN, CARL, DANA]
# Ten public channels, as a busy workspace has: Slack paces posts per channel.
CHANNELS = [f"CTOGGLE{n:02d}" for n in range(10)]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """Slack answering every call in 0.15 s, so that an add's look-ups outlast its removal."""
    fake = FakeSlack(latency=(0.15, 0.15)).start()
    for giver in GIVERS:
        fake.add_user(giver)
    yield fake
    fake.stop()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Every giver toggles ten times in parallel: the allowance is not what this is about.
    return settings.model_copy(update={"kudos_daily_limit": 50, "server_threads": 32})


def posts_in_threads(slack: FakeSlack, thread_ts: set[str]) -> list[object]:
    return [c for c in slack.calls("chat.postMessage") if c.get("thread_ts") in thread_ts]


def dms_to_authors(slack: FakeSlack) -> list[object]:
    return [c for c in slack.calls("chat.postMessage") if c.get("channel") in AUTHORS]


# How long the adds may still run after the last request was answered. They are waited for
# to their end whatever it was: recorded, ignored, or refused by a database too busy to take
# the write ("database unavailable", on a machine loaded many times over) — none of which may
# leave anything behind.
LISTENERS_DONE_S = 120.0
# What the add handler logs once it has decided (bot/slack/listeners/reactions.py).
ADDS_HANDLED = (
    "principle reaction recorded",
    "principle reaction ignored",
    "principle reaction overallowance",
)


def handled(caplog: pytest.LogCaptureFixture, *starts: str) -> int:
    return sum(1 for r in caplog.records if r.getMessage().startswith(starts))


def deliver(bot: Bot, event: dict[str, Any]) -> int:
    """As Slack delivers: an answer later than its timeout, or an error status, is retried
    with the same event_id (`X-Slack-Retry-Num`), up to three times; the last answer."""
    event_id = f"EvORDER{next(_event_ids):08d}"
    reason, status = "", 0
    for retry in range(4):
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": reason}
        try:
            status = bot.event(event, event_id=event_id, headers=headers if retry else None).status
        except TimeoutError:
            reason = "http_timeout"
            continue
        if status == 200:
            return status
        reason = "http_error"
    if not status:
        raise AssertionError(f"{event['type']} never answered")
    return status


def in_parallel(jobs: list[Any]) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.concurrent
def test_a_hundred_reactions_removed_within_100ms_leave_no_kudos_reply_or_dm(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    messages = [new_ts() for _ in range(TOGGLES)]

    statuses: list[int] = []

    def toggle(n: int) -> None:
        giver, author, ts = GIVERS[n % len(GIVERS)], AUTHORS[n % len(AUTHORS)], messages[n]
        where = {"user": giver, "name": "dart", "item_user": author, "ts": ts}
        statuses.append(deliver(bot, reaction_added(**where, channel=CHANNELS[n // 10])))
        time.sleep(random.uniform(0, 0.1))
        statuses.append(deliver(bot, reaction_removed(**where, channel=CHANNELS[n // 10])))

    in_parallel([lambda n=n: toggle(n) for n in range(TOGGLES)])
    assert statuses == [200] * 2 * TOGGLES
    assert bot.listeners.wait_idle(LISTENERS_DONE_S), "adds still being handled"
    wait_until(lambda: _marks_absent(bot) == TOGGLES, 60, "every removal handled")
    outbox_settled(bot.database, timeout=30)
    assert kudos_rows(bot.database) == []
    assert all(allowance_used(bot.database, giver) == 0 for giver in GIVERS)
    assert [*posts_in_threads(slack, set(messages)), *dms_to_authors(slack)] == []


@pytest.mark.concurrent
def test_a_hundred_kudos_messages_deleted_within_100ms_leave_no_kudos_announcement_or_dm(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    said = [
        message(
            f"kudos <@{AUTHORS[n % len(AUTHORS)]}> #plain-words thanks {n}",
            user=GIVERS[n % len(GIVERS)],
            channel=CHANNELS[n // 10],
        )
        for n in range(TOGGLES)
    ]
    statuses: list[int] = []

    def post_and_delete(n: int) -> None:
        statuses.append(deliver(bot, said[n]))
        time.sleep(random.uniform(0, 0.1))
        statuses.append(deliver(bot, message_deleted(said[n], channel=CHANNELS[n // 10])))

    in_parallel([lambda n=n: post_and_delete(n) for n in range(TOGGLES)])
    assert statuses == [200] * 2 * TOGGLES
    assert bot.listeners.wait_idle(LISTENERS_DONE_S), "kudos messages still being handled"
    outbox_settled(bot.database, timeout=30)
    assert kudos_rows(bot.database) == []
    assert [*posts_in_threads(slack, {m["ts"] for m in said}), *dms_to_authors(slack)] == []


def test_a_removal_delivered_before_its_add_leaves_the_add_nothing_to_do(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    ts = new_ts()
    added = reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts)
    removed = reaction_removed(user=GIVER, name="dart", item_user=BEN, ts=ts)
    removed["event_ts"] = f"{float(added['event_ts']) + 0.05:.6f}"
    bot.event(removed)
    bot.event(added)
    wait_until(lambda: handled(caplog, *ADDS_HANDLED) >= 1, what="the add handled")
    assert any("principle reaction ignored" in r.getMessage() for r in caplog.records)
    outbox_settled(bot.database)
    assert kudos_rows(bot.database) == []
    assert posts_in_threads(slack, {ts}) == [] == dms_to_authors(slack)


def test_a_deletion_delivered_before_its_message_records_nothing(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    said = message(f"kudos <@{BEN}> #plain-words thanks", user=GIVER)
    bot.event(message_deleted(said))
    bot.event(said)
    wait_until(
        lambda: handled(caplog, "kudos message deleted before") == 1, what="the post handled"
    )
    outbox_settled(bot.database)
    assert kudos_rows(bot.database) == []
    assert allowance_used(bot.database) == 0
    assert posts_in_threads(slack, {said["ts"]}) == [] == dms_to_authors(slack)


def test_the_kudos_lasts_while_an_alias_reaction_meaning_it_stands(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    ts = new_ts()
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts))
    wait_until(lambda: len(kudos_rows(bot.database)) == 1, what="the kudos")
    bot.event(reaction_added(user=GIVER, name="100", item_user=BEN, ts=ts))
    wait_until(lambda: handled(caplog, *ADDS_HANDLED) == 2, what="the alias handled")
    # `:dart:` goes; `:100:` still says "own the outcome".
    bot.event(reaction_removed(user=GIVER, name="dart", item_user=BEN, ts=ts))
    wait_until(lambda: _absent(bot, ts, "dart"), what="the removal handled")
    outbox_settled(bot.database)
    [kudos] = kudos_rows(bot.database)
    assert (kudos.giver_id, kudos.receiver_id, kudos.message_ts) == (GIVER, BEN, ts)
    assert allowance_used(bot.database) == 1
    # Then `:100:` goes too: nothing means it any more, and the kudos is withdrawn.
    bot.event(reaction_removed(user=GIVER, name="100", item_user=BEN, ts=ts))
    wait_until(lambda: not kudos_rows(bot.database), what="the kudos withdrawn")
    assert allowance_used(bot.database) == 0


def test_another_persons_alias_does_not_keep_my_kudos(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    ts = new_ts()
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts))
    bot.event(reaction_added(user=CARL, name="100", item_user=BEN, ts=ts))
    wait_until(lambda: len(kudos_rows(bot.database)) == 2, what="two kudos")
    bot.event(reaction_removed(user=GIVER, name="dart", item_user=BEN, ts=ts))
    wait_until(lambda: len(kudos_rows(bot.database)) == 1, what="mine withdrawn")
    [left] = kudos_rows(bot.database)
    assert left.giver_id == CARL


@contextmanager
def undoings_failing(bot: Bot) -> Iterator[None]:
    """The database refuses every write of an undoing's mark (a trigger, as a full disk or a
    broken constraint would): what the bot does with a write that fails, not a mock of it."""
    if bot.database.dialect == "sqlite":
        create = [
            "CREATE TRIGGER refuse_marks BEFORE INSERT ON message_marks "
            "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
        ]
        drop = ["DROP TRIGGER refuse_marks"]
    else:
        create = [
            "CREATE FUNCTION refuse_marks() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$",
            "CREATE TRIGGER refuse_marks BEFORE INSERT OR UPDATE ON message_marks "
            "FOR EACH ROW EXECUTE FUNCTION refuse_marks()",
        ]
        drop = ["DROP TRIGGER refuse_marks ON message_marks", "DROP FUNCTION refuse_marks()"]
    with bot.database.engine.begin() as connection:
        for statement in create:
            connection.exec_driver_sql(statement)
    try:
        yield
    finally:
        with bot.database.engine.begin() as connection:
            for statement in drop:
                connection.exec_driver_sql(statement)


def _claimed(bot: Bot, event_id: str) -> bool:
    with bot.database.reading() as session:
        found = session.scalar(
            select(ProcessedEvent.event_id).where(ProcessedEvent.event_id == event_id)
        )
    return found is not None


def test_a_removal_whose_write_fails_answers_503_and_its_retry_withdraws_the_kudos(
    bot: Bot, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    ts = new_ts()
    bot.event(reaction_added(user=GIVER, name="dart", item_user=BEN, ts=ts))
    wait_until(lambda: len(kudos_rows(bot.database)) == 1, what="the kudos")
    removed = reaction_removed(user=GIVER, name="dart", item_user=BEN, ts=ts)
    with undoings_failing(bot):
        assert bot.event(removed, event_id="EvFAILEDUNDO").status == 503
    assert not _claimed(bot, "EvFAILEDUNDO")
    assert len(kudos_rows(bot.database)) == 1
    assert "answered 503 so that Slack retries it" in caplog.text
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert bot.event(removed, event_id="EvFAILEDUNDO", headers=retry).status == 200
    assert _claimed(bot, "EvFAILEDUNDO")
    assert kudos_rows(bot.database) == []
    assert allowance_used(bot.database) == 0
    # A second retry (Slack saw no answer in time) finds the claim and changes nothing.
    again = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
    assert bot.event(removed, event_id="EvFAILEDUNDO", headers=again).status == 200
    assert "event EvFAILEDUNDO already handled" in caplog.text


def test_a_deletion_whose_write_fails_answers_503_and_its_retry_withdraws_the_kudos(
    bot: Bot, slack: FakeSlack
) -> None:
    said = message(f"kudos <@{BEN}> #plain-words thanks", user=GIVER)
    bot.event(said)
    wait_until(lambda: len(kudos_rows(bot.database)) == 1, what="the kudos")
    with undoings_failing(bot):
        assert bot.event(message_deleted(said), event_id="EvFAILEDDELETE").status == 503
    assert not _claimed(bot, "EvFAILEDDELETE")
    assert len(kudos_rows(bot.database)) == 1
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert bot.event(message_deleted(said), event_id="EvFAILEDDELETE", headers=retry).status == 200
    assert kudos_rows(bot.database) == []
    assert allowance_used(bot.database) == 0


def _absent(bot: Bot, ts: str, emoji: str) -> bool:
    with bot.database.reading() as session:
        present = session.scalar(
            select(MessageMark.present).where(
                MessageMark.message_ts == ts,
                MessageMark.mark == emoji,
                MessageMark.channel_id == DEFAULT_CHANNEL,
            )
        )
    return present is False


def _marks_absent(bot: Bot) -> int:
    with bot.database.reading() as session:
        return len(session.scalars(select(MessageMark).where(MessageMark.present.is_(False))).all())
