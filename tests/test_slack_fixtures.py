"""Every payload in tests/fixtures/slack/ (copied from Slack's docs and SDK test fixtures, each
naming its `_source` and any `_changes`) replayed signed through the real app: 200 within
2.5 s, no ERROR log line, and the effect its `_expect` names. The org-wide install's events
do what the same events do for a workspace install (`test_an_org_install_...`).

A fixture's `_install` is what auth.test answers (the installation the bot's token is for),
its `_usergroups` the user groups Slack knows (group ID → members);
`_after` names a fixture replayed first; `_headers` go with the request (a redelivery's
X-Slack-Retry-Num); `_unsigned` sends it without a signature, as Slack sends ssl_check.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, select

from bot.audience import Audience, known_audience
from bot.config import Settings
from bot.db.models import Kudos
from bot.people import find_people
from bot.slack.deadline import ACK_LIMITS
from tests.conftest import Bot, running_bot
from tests.support.conversation import wait_until
from tests.support.databases import emptying_order
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import kudos_rows, outbox_settled
from tests.support.slack_client import HttpReply
from tests.support.stall import note_deadlines, slack_waits, stopwatch

FIXTURES = Path(__file__).parent / "fixtures" / "slack"
# Slack's rule as the bot keeps it (bot/slack/deadline.py): answered within 2.5 s.
DEADLINE_S = ACK_LIMITS.ack


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


NAMES = sorted(path.stem for path in FIXTURES.glob("*.json"))


def team_of(fixture: dict[str, Any]) -> str:
    """The team the installation's records are kept under: its enterprise when org-wide."""
    install = fixture["_install"]
    return str(install["enterprise_id"] if install["is_enterprise_install"] else install["team_id"])


@contextmanager
def installed(settings: Settings, slack: FakeSlack, fixture: dict[str, Any]) -> Iterator[Bot]:
    """The bot, installed as the fixture's `_install` says, in a Slack with its `_usergroups`."""
    slack.auth_test = dict(fixture["_install"])
    slack.usergroups = {
        group: list(members) for group, members in fixture.get("_usergroups", {}).items()
    }
    with running_bot(settings, slack) as bot:
        yield bot


def replay(bot: Bot, fixture: dict[str, Any]) -> HttpReply:
    headers = dict(fixture.get("_headers") or {})
    if "form" in fixture:
        body, content_type = fixture["form"], "application/x-www-form-urlencoded"
    elif "payload" in fixture:
        body = urlencode({"payload": json.dumps(fixture["payload"])})
        content_type = "application/x-www-form-urlencoded"
    else:
        body, content_type = json.dumps(fixture["body"]), "application/json"
    if fixture.get("_unsigned"):
        headers.update({"X-Slack-Signature": "", "X-Slack-Request-Timestamp": ""})
    # The code's time, not a busy machine's (tests/support/stall.py); its Slack waits, to show.
    deadlines = note_deadlines(bot.runtime.app)
    with stopwatch() as watch:
        reply = bot.post(body, content_type=content_type, headers=headers)
    watch.waits = slack_waits(deadlines)
    assert reply.status == 200, (reply.status, reply.body[:200])
    assert watch.code_time() < DEADLINE_S, f"answered after {watch.describe()}"
    return reply


def event_of(fixture: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = fixture["body"]["event"]
    return event


# -- the effects a fixture may name -----------------------------------------------------------


def home_published(bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply) -> None:
    [published] = slack.wait_for("views.publish")
    assert published["user_id"] == event_of(fixture)["user"]


def home_published_once(
    bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply
) -> None:
    # Replayed after its first delivery (see `test_every_fixture_...`): handled once.
    home_published(bot, slack, fixture, reply)
    bot.deliver()  # every listener of both deliveries finished, and what they queued sent
    assert len(slack.calls("views.publish")) == 1


def the_one_kudos(bot: Bot, fixture: dict[str, Any], source: str) -> Kudos:
    """The kudos the event recorded, checked to be the installation's and the event's giver's."""
    wait_until(lambda: len(kudos_rows(bot.database)) == 1, what="the kudos recorded")
    [kudos] = kudos_rows(bot.database)
    giver = event_of(fixture)["user"]
    assert (kudos.team_id, kudos.giver_id, kudos.source) == (team_of(fixture), giver, source)
    return kudos


def kudos_from_message(
    bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply
) -> None:
    event = event_of(fixture)
    kudos = the_one_kudos(bot, fixture, "message")
    assert f"<@{kudos.receiver_id}>" in event["text"]
    assert (kudos.channel_id, kudos.message_ts) == (event["channel"], event["ts"])
    [tick] = slack.wait_for("reactions.add")
    assert (tick["timestamp"], tick["name"]) == (event["ts"], "white_check_mark")
    slack.wait_for(
        "chat.postMessage",
        where=lambda c: (
            c.get("channel") == event["channel"]
            and c.get("thread_ts") == event.get("thread_ts", event["ts"])
        ),
    )


def kudos_to_group_members(
    bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply
) -> None:
    """A `kudos @group …` message: a kudos for each of the group's members, which an org-wide
    install's token could only ask Slack for by naming the workspace the message was in."""
    members = {m for group in fixture["_usergroups"].values() for m in group}
    wait_until(lambda: len(kudos_rows(bot.database)) == len(members), what="the group's kudos")
    giver = event_of(fixture)["user"]
    given = kudos_rows(bot.database)
    assert {k.receiver_id for k in given} == members
    assert {(k.team_id, k.giver_id, k.source) for k in given} == {
        (team_of(fixture), giver, "message")
    }
    [asked] = slack.calls("usergroups.users.list")
    assert asked["team_id"] == fixture["body"]["team_id"]
    [tick] = slack.wait_for("reactions.add")
    assert tick["timestamp"] == event_of(fixture)["ts"]


def kudos_from_reaction(
    bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply
) -> None:
    kudos = the_one_kudos(bot, fixture, "reaction")
    assert kudos.receiver_id == event_of(fixture)["item_user"]


def kudos_withdrawn_by_reaction(
    bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply
) -> None:
    def withdrawn() -> bool:
        rows = kudos_rows(bot.database, include_withdrawn=True)
        return len(rows) == 1 and rows[0].withdrawn_at is not None

    wait_until(withdrawn, what="the reaction's kudos withdrawn")
    assert kudos_rows(bot.database) == []


def person_remembered(
    bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply
) -> None:
    user = event_of(fixture)["user"]

    def known() -> bool:
        with bot.database.reading() as session:
            return user["id"] in find_people(
                session=session, team_id=team_of(fixture), user_ids=[user["id"]]
            )

    wait_until(known, what="the person in the directory")


def channel_shared(bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply) -> None:
    channel = event_of(fixture)["channel"]

    def shared() -> bool:
        with bot.database.reading() as session:
            now = dt.datetime.now(dt.UTC)
            found = known_audience(
                session=session, team_id=team_of(fixture), channel_id=channel, now=now
            )
            return found is Audience.SHARED

    wait_until(shared, what="the channel known as shared")


def nothing_recorded(bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply) -> None:
    bot.deliver()  # the event's listeners finished, and anything they queued sent
    with bot.database.reading() as session:
        assert session.scalars(select(Kudos)).all() == []
    assert slack.calls("reactions.add") == []
    assert slack.calls("chat.postMessage") == []


def empty_200(bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply) -> None:
    assert reply.body == b""
    assert [c.method for c in slack.calls() if c.method != "auth.test"] == []


def form_refused(bot: Bot, slack: FakeSlack, fixture: dict[str, Any], reply: HttpReply) -> None:
    answer = reply.json
    assert answer["response_action"] in {"errors", "update"}
    assert "principle" in reply.text.lower()
    assert kudos_rows(bot.database) == []


EFFECTS: dict[str, Callable[[Bot, FakeSlack, dict[str, Any], HttpReply], None]] = {
    f.__name__: f
    for f in (
        home_published,
        home_published_once,
        kudos_from_message,
        kudos_from_reaction,
        kudos_to_group_members,
        kudos_withdrawn_by_reaction,
        person_remembered,
        channel_shared,
        nothing_recorded,
        empty_200,
        form_refused,
    )
}


def errors_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("name", NAMES)
def test_every_fixture_answers_in_time_without_an_error_and_has_its_effect(
    name: str, settings: Settings, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fixture = load(name)
    caplog.set_level(logging.INFO)
    with installed(settings, slack, fixture) as bot:
        if "_after" in fixture:
            first = load(fixture["_after"])
            EFFECTS[first["_expect"]](bot, slack, first, replay(bot, first))
        if fixture.get("_headers", {}).get("X-Slack-Retry-Num"):
            replay(bot, {**fixture, "_headers": {}})  # the first delivery
        reply = replay(bot, fixture)
        EFFECTS[fixture["_expect"]](bot, slack, fixture, reply)
        outbox_settled(bot.database)
    assert errors_in(caplog) == []


def as_workspace_install(fixture: dict[str, Any]) -> dict[str, Any]:
    """The same event as Slack sends it to an app installed in workspace T111 only."""
    body = json.loads(json.dumps(fixture["body"]))
    for authorization in body.get("authorizations") or []:
        authorization.update(team_id="T111", is_enterprise_install=False)
    install = {"team_id": "T111", "enterprise_id": "E111", "is_enterprise_install": False}
    return {**fixture, "_install": install, "body": body}


def as_delivered(fixture: dict[str, Any]) -> dict[str, Any]:
    return fixture


ORG_EVENTS = [
    name
    for name in NAMES
    if load(name)["_install"]["is_enterprise_install"] and "_headers" not in load(name)
]


def wipe(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in emptying_order():
            connection.execute(table.delete())
    engine.dispose()


def effect_of(
    settings: Settings,
    slack: FakeSlack,
    fixture: dict[str, Any],
    shape: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """What the event did, delivered in `shape`: the kudos, and what the bot asked Slack."""
    wipe(settings.database_url)
    slack.reset_calls()
    fixture = shape(fixture)
    with installed(settings, slack, fixture) as bot:
        if "_after" in fixture:
            first = shape(load(fixture["_after"]))
            EFFECTS[first["_expect"]](bot, slack, first, replay(bot, first))
            # Its announcement sent before the next event, in both shapes alike.
            outbox_settled(bot.database)
        EFFECTS[fixture["_expect"]](bot, slack, fixture, replay(bot, fixture))
        outbox_settled(bot.database)
        kudos = [
            (k.giver_id, k.receiver_id, k.message, k.source, k.withdrawn_at is None)
            for k in kudos_rows(bot.database, include_withdrawn=True)
        ]
    methods = sorted(c.method for c in slack.calls() if c.method != "auth.test")
    return {"kudos": kudos, "slack": methods}


@pytest.mark.parametrize("name", ORG_EVENTS)
def test_an_org_install_event_does_what_the_same_event_does_for_a_workspace_install(
    name: str, settings: Settings, slack: FakeSlack
) -> None:
    fixture = load(name)
    org = effect_of(settings, slack, fixture, as_delivered)
    workspace = effect_of(settings, slack, fixture, as_workspace_install)
    assert org == workspace
    assert org["slack"] or org["kudos"] or fixture["_expect"] != "nothing_recorded"
