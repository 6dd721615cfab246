"""`/mission <principle>`: *How we lived it* — recent quotes the asker may read, this month
against last month, distinct givers and receivers, and the Give kudos for this button."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from bot.blocks.ids import Action
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID
from tests.support.kudos import opened_view
from tests.support.reports import kudos_row, principle_ids, seed
from tests.support.slack_client import DEFAULT_CHANNEL, DEFAULT_USER

# 20 April 2026, 15:00 UTC: 11:00 in New York, the fake Slack's timezone for everyone.
NOW = dt.datetime(2026, 4, 20, 15, 0, tzinfo=dt.UTC)
ASKER = DEFAULT_USER
OTHER_CHANNEL, SECRET_CHANNEL = "CRANDOM001", "CSECRET01"


@pytest.fixture(autouse=True)
def at_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def plain_words_kudos(bot: Bot) -> list[dict[str, Any]]:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    pids = principle_ids(bot.database, TEAM_ID)
    plain, fix = pids["plain-words"], pids["fix-the-cause"]
    april = dt.datetime(2026, 4, 10, 12, tzinfo=dt.UTC)
    march = dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC)
    # The last day of March in New York is already April in UTC: it counts for March.
    march_night = dt.datetime(2026, 4, 1, 2, tzinfo=dt.UTC)
    rows = [
        # April: 4 counted (one withdrawn doesn't count) — givers G1, G2, G3; receivers B, C, D.
        kudos_row(TEAM_ID, "UG1", "UB", plain, april, message="public and oldest of april"),
        kudos_row(TEAM_ID, "UG2", "UC", plain, april + dt.timedelta(days=1), message="newer"),
        kudos_row(
            TEAM_ID,
            "UG3",
            "UD",
            plain,
            april + dt.timedelta(days=2),
            message="said in a secret room",
            channel=SECRET_CHANNEL,
            audience="private",
        ),
        kudos_row(
            TEAM_ID,
            "UG3",
            ASKER,
            plain,
            april + dt.timedelta(days=3),
            message="to the asker in a DM",
            channel="DDM0001",
            audience="dm",
        ),
        kudos_row(TEAM_ID, "UG9", "UZ", plain, april, message="withdrawn", withdrawn=True),
        # March: 2, one on the last evening of March in New York.
        kudos_row(TEAM_ID, "UG1", "UB", plain, march, message="march"),
        kudos_row(TEAM_ID, "UG4", "UB", plain, march_night, message="march night"),
        # Another principle: never counted here.
        kudos_row(TEAM_ID, "UG1", "UB", fix, april, message="fix"),
    ]
    seed(bot.database, rows)
    return rows


def test_principle_detail_counts_this_month_against_last_and_distinct_people(bot: Bot) -> None:
    plain_words_kudos(bot)
    text = bot.command("/mission", "plain-words").text
    assert "*How we lived it*" in text
    assert "4 kudos this month, 2 more than last month (2)" in text
    # Last 90 days: givers G1, G2, G3, G4; receivers B, C, D and the asker.
    assert "4 people recognised 4 people" in text


def test_principle_detail_quotes_only_what_the_asker_may_read_newest_first(bot: Bot) -> None:
    plain_words_kudos(bot)
    text = bot.command("/mission", "plain-words").text
    # The DM naming the asker and two public ones; never the private channel's words.
    assert "to the asker in a DM" in text
    assert "said in a secret room" not in text
    assert "withdrawn" not in text
    assert text.index("to the asker in a DM") < text.index("newer") < text.index("oldest")
    assert "march" not in text  # only three quotes, the newest


def test_principle_detail_in_the_private_channel_quotes_its_own_kudos(bot: Bot) -> None:
    plain_words_kudos(bot)
    text = bot.command("/mission", "plain-words", channel=SECRET_CHANNEL, user="UOUTSIDER").text
    assert "said in a secret room" in text
    assert "to the asker in a DM" not in text
    elsewhere = bot.command("/mission", "plain-words", channel=OTHER_CHANNEL, user="UOUTSIDER")
    assert "said in a secret room" not in elsewhere.text
    assert "to the asker in a DM" not in elsewhere.text


def test_give_kudos_for_this_opens_the_form_with_the_principle_chosen(bot: Bot) -> None:
    plain_words_kudos(bot)
    reply = bot.command("/mission", "plain-words")
    button = next(
        element
        for block in reply.json["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    )
    assert button["text"]["text"] == "Give kudos for this"
    assert button["action_id"] == Action.GIVE_KUDOS
    assert button["value"] == "plain-words"
    payload = bot.button_payload(
        Action.GIVE_KUDOS, "plain-words", block_id="lived", channel=DEFAULT_CHANNEL
    )
    assert bot.interaction(payload).status == 200
    view = opened_view(bot.fake)
    principle = next(b for b in view["blocks"] if b.get("block_id") == "principle")
    assert principle["element"]["initial_option"]["value"] == "plain-words"


def test_a_principle_nobody_recognised_in_90_days_says_so_with_the_button(bot: Bot) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    pids = principle_ids(bot.database, TEAM_ID)
    old = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # 105 days before NOW
    seed(bot.database, [kudos_row(TEAM_ID, "UG1", "UB", pids["plain-words"], old)])
    reply = bot.command("/mission", "plain-words")
    assert "Nobody has been recognised for this principle in the last 90 days" in reply.text
    assert "Give kudos for this" in str(reply.json["blocks"])


def test_empty_workspace_detail_reads_well(bot: Bot) -> None:
    reply = bot.command("/mission", "7")
    assert reply.status == 200
    assert "*Own the outcome, not just the task*" in reply.text
    assert "Nobody has been recognised" in reply.text
