"""A kudos's words reach only people who could read them where it was given.

Kudos are given in a public channel, a private channel the bot is in, a private channel it
is not in, a group DM and a DM; then every surface that shows kudos to a third person is
run. No word of a non-public kudos may appear in any of them; the public one's words appear
wherever the surface quotes kudos at all, and counts stay whole.

A surface added later (a reaction thread, a nudge, the principle detail) is one line in
SURFACES.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from bot.blocks.ids import Action, BlockId
from bot.cli import main
from bot.daily.rotation import principle_for_day
from bot.db.models import Kudos
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import kudos_rows, outbox_settled

GENERAL = "CGENERAL01"  # where the morning post, the digest and the shares go
THIRD = "UTHIRD001"  # a colleague in #general who was in none of the conversations below
BOSS = "UBOSS0001"  # a manager who shares the leaderboard in #general
BEN = "UBEN0002"  # receives every kudos below
GIVEN_AT = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)  # a Wednesday
MONDAY_MORNING = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)  # posts and the weekly digest


@dataclass(frozen=True)
class Place:
    channel: str
    described: dict[str, Any] | None  # what conversations.info says (None: Slack won't say)
    giver: str
    words: str
    audience: str


PLACES = {
    "public channel": Place("CPUBLIC01", {}, "UGIVER001", "PUBLIC-NOTE launch day", "public"),
    "private channel, bot in it": Place(
        "CPRIVIN01",
        {"is_private": True, "is_member": True},
        "UGIVER002",
        "PRIVATE-CHANNEL-NOTE merger talk",
        "private",
    ),
    "private channel, bot not in it": Place(
        "CPRIVOUT1",
        {"is_private": True, "is_member": False},
        "UGIVER003",
        "HIDDEN-CHANNEL-NOTE layoffs",
        "unknown",
    ),
    "group DM": Place(
        "GMPIM0001",
        {"is_mpim": True, "is_private": True, "is_channel": False, "is_member": True},
        "UGIVER004",
        "GROUP-DM-NOTE salary",
        "group_dm",
    ),
    "DM": Place("DANABEN01", None, "UGIVER005", "DIRECT-NOTE health", "dm"),
}
PUBLIC_WORDS = PLACES["public channel"].words
PRIVATE_WORDS = [p.words for p in PLACES.values() if p.audience != "public"]


def first_principle_key(bot: Bot) -> str:
    """The principle of the day the tests read, chosen (and recorded) before any kudos: every
    kudos here is tagged with it. (Chosen after them, the rotation would bring forward a
    principle nobody had been recognised for.)"""
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    with bot.database.transaction() as session:
        day = MONDAY_MORNING.date()
        return principle_for_day(session=session, team_id=TEAM_ID, day=day).key


def describe(slack: FakeSlack) -> None:
    for place in PLACES.values():
        if place.described is not None:
            slack.channels[place.channel] = place.described
    for user in (THIRD, BOSS, BEN, *(p.giver for p in PLACES.values())):
        slack.add_user(user, tz="UTC", is_admin=user == BOSS)


def give_everywhere(bot: Bot, slack: FakeSlack) -> dict[str, str]:
    """The public kudos first: every other one is newer, so only the rule keeps it out.

    Returns each giver's confirmation (the acknowledgement's text).
    """
    describe(slack)
    key = first_principle_key(bot)
    confirmations: dict[str, str] = {}
    with time_machine.travel(GIVEN_AT, tick=True):
        for place in PLACES.values():
            reply = bot.command(
                "/kudos",
                f"<@{BEN}> #{key} {place.words}",
                user=place.giver,
                channel=place.channel,
            )
            assert "Kudos recorded" in reply.text
            confirmations[place.giver] = reply.text
    # The announcements and DMs go out after the acknowledgements, from the outbox.
    outbox_settled(bot.database)
    return confirmations


def subscribe_general(bot: Bot) -> None:
    with time_machine.travel(GIVEN_AT, tick=True):
        reply = bot.command("/mission", "subscribe 09:00 daily UTC digest", channel=GENERAL)
    assert "will get the principle of the day" in reply.text


# -- the surfaces: each returns everything a third person can read there ------------------------


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def posts_in_general(slack: FakeSlack, marker: str) -> str:
    posts = [
        c.params
        for c in slack.calls("chat.postMessage")
        if c["channel"] == GENERAL and marker in dump(c.params)
    ]
    assert len(posts) == 1, [c.params.get("text") for c in slack.calls("chat.postMessage")]
    return dump(posts[0])


def morning_post(bot: Bot, slack: FakeSlack) -> str:
    subscribe_general(bot)
    scheduler = bot.runtime.scheduler
    with time_machine.travel(MONDAY_MORNING, tick=True):
        scheduler.settle(scheduler.run_due())  # sent through the outbox
    return posts_in_general(slack, "Principle of the day")


def weekly_digest(bot: Bot, slack: FakeSlack) -> str:
    subscribe_general(bot)
    scheduler = bot.runtime.scheduler
    with time_machine.travel(MONDAY_MORNING, tick=True):
        scheduler.settle(scheduler.run_due())  # sent through the outbox
    return posts_in_general(slack, "Last week in kudos")


def mission_today(bot: Bot, slack: FakeSlack) -> str:
    with time_machine.travel(MONDAY_MORNING, tick=True):
        return bot.command("/mission", "today", user=THIRD, channel=GENERAL).text


def principle_detail(bot: Bot, slack: FakeSlack) -> str:
    """`/mission <principle>` with How we lived it, asked by the third person in #general."""
    key = first_principle_key(bot)
    with time_machine.travel(MONDAY_MORNING, tick=True):
        return bot.command("/mission", key, user=THIRD, channel=GENERAL).text


def share_in_channel(bot: Bot, slack: FakeSlack) -> str:
    with time_machine.travel(MONDAY_MORNING, tick=True):
        preview = bot.command("/mission", "today", user=THIRD, channel=GENERAL)
        value = preview.json["blocks"][-1]["elements"][0]["value"]
        click = bot.button_payload(
            Action.SHARE_TODAY, value, block_id=BlockId.DAILY_ACTIONS, user=THIRD, channel=GENERAL
        )
        assert bot.interaction(click).status == 200
        slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == GENERAL)
    return posts_in_general(slack, "Shared by")


def app_home(bot: Bot, slack: FakeSlack) -> str:
    with time_machine.travel(MONDAY_MORNING, tick=True):
        home = {"type": "app_home_opened", "user": THIRD, "channel": "DTHIRD001", "tab": "home"}
        assert bot.event(home).status == 200
        [published] = slack.wait_for("views.publish")
    return dump(published.params)


def shared_leaderboard(bot: Bot, slack: FakeSlack) -> str:
    with time_machine.travel(MONDAY_MORNING, tick=True):
        reply = bot.command("/kudos", "leaderboard month share", user=BOSS, channel=GENERAL)
        # Posted in the channel through the outbox; the ack only says so.
        slack.wait_for("chat.postMessage", where=lambda c: "shared by" in dump(c.params))
    assert reply.json["response_type"] == "ephemeral"
    return posts_in_general(slack, "shared by")


@dataclass(frozen=True)
class Surface:
    show: Callable[[Bot, FakeSlack], str]
    quotes: bool  # shows kudos's words at all (else only counts, which stay whole)
    count_line: str | None = None  # how it shows Ben's kudos count, when it shows counts


SURFACES = {
    "morning post in #general": Surface(morning_post, quotes=True),
    "/mission today for a third person": Surface(mission_today, quotes=True),
    "/mission <principle> for a third person": Surface(principle_detail, quotes=True),
    "Share in channel": Surface(share_in_channel, quotes=True),
    "weekly digest in #general": Surface(weekly_digest, quotes=True),
    "App Home of a third person": Surface(app_home, quotes=False, count_line=f"<@{BEN}> — 5"),
    "shared leaderboard": Surface(
        shared_leaderboard, quotes=False, count_line=f"<@{BEN}> — 5 kudos"
    ),
}


@pytest.mark.parametrize("name", SURFACES)
def test_no_word_of_a_non_public_kudos_reaches_a_third_person(
    bot: Bot, slack: FakeSlack, name: str
) -> None:
    give_everywhere(bot, slack)
    surface = SURFACES[name]
    shown = surface.show(bot, slack)
    for words in PRIVATE_WORDS:
        assert words not in shown, f"{name} quoted a non-public kudos: {words}"
    if surface.quotes:
        assert PUBLIC_WORDS in shown
    if surface.count_line:
        assert surface.count_line in shown  # counts every kudos: no words, nothing hidden


def test_each_kudos_records_the_audience_of_where_it_was_given(bot: Bot, slack: FakeSlack) -> None:
    give_everywhere(bot, slack)
    recorded = {row.channel_id: row.audience for row in kudos_rows(bot.database)}
    assert recorded == {place.channel: place.audience for place in PLACES.values()}


def test_a_dm_kudos_is_confirmed_and_dmed_but_never_announced(bot: Bot, slack: FakeSlack) -> None:
    confirmations = give_everywhere(bot, slack)
    dm = PLACES["DM"]
    posted = [c for c in slack.calls("chat.postMessage") if dm.words in dump(c.params)]
    assert [c["channel"] for c in posted] == [BEN]  # the receiver's DM, nowhere else
    in_channel = [c for c in slack.calls("response_url") if c.get("response_type") == "in_channel"]
    assert all(dm.words not in dump(c.params) for c in in_channel)
    assert "isn't announced anywhere" in confirmations[dm.giver]
    assert f"<@{BEN}>" in confirmations[dm.giver]
    others = [text for giver, text in confirmations.items() if giver != dm.giver]
    assert not any("isn't announced anywhere" in text for text in others)


def test_a_private_channel_kudos_is_announced_only_in_that_channel(
    bot: Bot, slack: FakeSlack
) -> None:
    give_everywhere(bot, slack)
    private = PLACES["private channel, bot in it"]
    announced = [
        c["channel"]
        for c in slack.calls("chat.postMessage")
        if private.words in dump(c.params) and c["channel"] != BEN
    ]
    assert announced == [private.channel]


def test_a_private_kudos_is_quoted_back_in_its_own_channel_and_to_its_receiver(
    bot: Bot, slack: FakeSlack
) -> None:
    give_everywhere(bot, slack)
    private = PLACES["private channel, bot in it"]
    with time_machine.travel(MONDAY_MORNING, tick=True):
        in_its_channel = bot.command("/mission", "today", user=THIRD, channel=private.channel)
        to_its_receiver = bot.command("/mission", "today", user=BEN, channel=GENERAL)
    # The newest kudos each may read: the channel's own, and (for Ben) the newest naming him.
    assert private.words in in_its_channel.text
    assert PLACES["DM"].words in to_its_receiver.text


def test_a_channel_made_private_is_no_longer_quoted_from_then_on(
    bot: Bot, slack: FakeSlack
) -> None:
    give_everywhere(bot, slack)
    public = PLACES["public channel"]
    converted = {
        "type": "message",
        "subtype": "channel_convert_to_private",
        "user": "UANA0001",
        "text": "made this channel *private*. Now, it can only be viewed or joined by invitation.",
        "ts": "1772700000.000100",
        "channel": public.channel,
        "event_ts": "1772700000.000100",
        "channel_type": "group",
    }
    assert bot.event(converted).status == 200
    bot.deliver()  # its listener runs after the ack
    shown = mission_today(bot, slack)
    assert public.words not in shown
    [row] = [r for r in kudos_rows(bot.database) if r.channel_id == public.channel]
    assert row.audience == "private"
    # Made public again: what was said while it was private stays private.
    assert bot.event({**converted, "subtype": "channel_convert_to_public"}).status == 200
    bot.deliver()  # its listener runs after the ack
    assert public.words not in mission_today(bot, slack)


def test_a_channel_shared_with_another_organisation_is_no_longer_quoted(
    bot: Bot, slack: FakeSlack
) -> None:
    give_everywhere(bot, slack)
    public = PLACES["public channel"]
    shared = {
        "type": "channel_shared",
        "connected_team_id": "E163Q94DX",
        "channel": public.channel,
        "event_ts": "1561064063.001100",
    }
    assert bot.event(shared).status == 200
    bot.deliver()  # its listener runs after the ack
    assert public.words not in mission_today(bot, slack)
    with bot.database.reading() as session:
        audiences = set(session.scalars(select(Kudos.audience)))
    assert "public" not in audiences


@pytest.mark.parametrize(
    "failure",
    [
        {"error": "channel_not_found"},
        {"status": 500},
        {"status": 429, "retry_after": 1},
    ],
    ids=["channel_not_found", "5xx", "429"],
)
def test_when_slack_cannot_say_who_can_read_a_channel_the_kudos_counts_as_private(
    bot: Bot, slack: FakeSlack, failure: dict[str, Any]
) -> None:
    key = first_principle_key(bot)
    slack.fail("conversations.info", times=5, **failure)
    reply = bot.command("/kudos", f"<@{BEN}> #{key} UNSURE-NOTE", channel="CPUBLIC99")
    assert "Kudos recorded" in reply.text
    [row] = kudos_rows(bot.database)
    assert row.audience == "unknown"
    slack.recover()
    assert "UNSURE-NOTE" not in bot.command("/mission", "today", user=THIRD).text


def test_exports_say_each_kudos_audience_and_can_leave_private_words_out(
    bot: Bot, slack: FakeSlack, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    give_everywhere(bot, slack)
    settings = bot.runtime.settings
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MISSION_FILE", str(settings.mission_file))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    everything, public_only = tmp_path / "all.csv", tmp_path / "public.csv"
    for output, extra in ((everything, []), (public_only, ["--public-text-only"])):
        argv = ["export", "--period", "2026-03", "--output", str(output), *extra]
        assert main(argv) == 0
    full = list(csv.DictReader(io.StringIO(everything.read_text())))
    assert {r["message"]: r["audience"] for r in full} == {
        p.words: p.audience for p in PLACES.values()
    }
    redacted = list(csv.DictReader(io.StringIO(public_only.read_text())))
    assert len(redacted) == len(PLACES)  # every kudos still counted
    assert [r["message"] for r in redacted if r["audience"] == "public"] == [PUBLIC_WORDS]
    assert not any(words in public_only.read_text() for words in PRIVATE_WORDS)
