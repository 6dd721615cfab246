"""Slack redelivers an event it thinks we missed: each `event_id` is handled once."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from bot.db.engine import Database
from bot.db.models import ProcessedEvent
from bot.events import claim_event, prune_events
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack

HOME_OPENED = {"type": "app_home_opened", "user": "UANA0001", "channel": "D1", "tab": "home"}


def test_a_redelivered_event_publishes_the_home_tab_once(bot: Bot, slack: FakeSlack) -> None:
    assert bot.event(HOME_OPENED, event_id="Ev0REDELIVER").status == 200
    slack.wait_for("views.publish")
    for retry in ("1", "2"):
        reply = bot.event(
            HOME_OPENED,
            event_id="Ev0REDELIVER",
            headers={"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert reply.status == 200
    assert bot.event(HOME_OPENED, event_id="Ev0SOMETHINGNEW").status == 200
    slack.wait_for("views.publish", count=2)
    assert len(slack.calls("views.publish")) == 2


def test_claims_older_than_a_day_are_pruned_and_recent_ones_kept(database: Database) -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with database.transaction() as session:
        assert claim_event(session=session, team_id=TEAM_ID, event_id="EvOLD", now=now)
        assert not claim_event(session=session, team_id=TEAM_ID, event_id="EvOLD", now=now)
        later = now + dt.timedelta(hours=23)
        assert claim_event(session=session, team_id=TEAM_ID, event_id="EvRECENT", now=later)
    with database.transaction() as session:
        assert prune_events(session=session, now=now + dt.timedelta(days=1, minutes=1)) == 1
        left = session.scalars(select(ProcessedEvent.event_id)).all()
        assert left == ["EvRECENT"]
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


def test_a_redelivery_racing_the_first_delivery_publishes_once(bot: Bot, slack: FakeSlack) -> None:
    """Slack retries when our answer is late: the retry can arrive while the first delivery
    is still being handled, on any thread (SQLite and PostgreSQL alike)."""
    barrier = threading.Barrier(3)
    replies: list[int] = []

    def deliver(retry: str | None) -> None:
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        barrier.wait()
        reply = bot.event(HOME_OPENED, event_id="Ev0RACING", headers=headers if retry else None)
        replies.append(reply.status)

    threads = [threading.Thread(target=deliver, args=(r,)) for r in (None, "1", "2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies == [200, 200, 200]
    # Someone else's opening: the only other publish.
    other = {**HOME_OPENED, "user": "UBEN0002"}
    assert bot.event(other, event_id="Ev0AFTERRACE").status == 200
    slack.wait_for("views.publish", count=2)
    assert sorted(c["user_id"] for c in slack.calls("views.publish")) == ["UANA0001", "UBEN0002"]
