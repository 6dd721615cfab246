"""`/mission` over signed HTTP against the served app."""

from __future__ import annotations

from tests.conftest import Bot
from tests.support.stall import stopwatch


def test_mission_lists_statement_and_principles_grouped_by_category(bot: Bot) -> None:
    reply = bot.command("/mission")
    assert reply.status == 200
    body = reply.json
    assert body["response_type"] == "ephemeral"
    text = reply.text
    assert "We move our customers' goods" in text
    assert text.index("*Easy*") < text.index("*Recognize*") < text.index("*Solve*")
    assert "`1.` :telephone_receiver: *Be easy to reach*  `#easy-to-reach`" in text
    assert "`9.` :bar_chart: *Decide with data, act with judgment*  `#decide-with-data`" in text


def test_mission_with_a_key_shows_that_principle_in_detail(bot: Bot) -> None:
    reply = bot.command("/mission", "own-the-outcome")
    assert reply.status == 200
    assert "*Own the outcome, not just the task*" in reply.text
    assert "If the handover fails, it is still yours until it works." in reply.text
    assert "Principle 7 · `#own-the-outcome` · Solve" in reply.text


def test_mission_accepts_a_number_or_a_hash_key(bot: Bot) -> None:
    by_number = bot.command("/mission", "2").text
    by_hash = bot.command("/mission", "#plain-words").text
    assert "*Say it in plain words*" in by_number
    assert by_number == by_hash


def test_unknown_principle_suggests_the_closest_and_lists_the_keys(bot: Bot) -> None:
    reply = bot.command("/mission", "own-outcome")
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "I don't know a principle called `own-outcome`" in reply.text
    assert "Did you mean `#own-the-outcome`" in reply.text
    assert "`#easy-to-reach`, `#plain-words`" in reply.text


def test_number_out_of_range_is_an_unknown_principle(bot: Bot) -> None:
    assert "I don't know a principle called `42`" in bot.command("/mission", "42").text


def test_mission_help_lists_the_subcommands(bot: Bot) -> None:
    text = bot.command("/mission", "help").text
    assert "`/mission`" in text
    assert "`/mission help`" in text
    assert "`/mission 3` or `/mission ownership`" in text


def test_mission_help_explains_categories_and_what_comes_first(bot: Bot) -> None:
    text = bot.command("/mission", "help").text
    assert "`/mission <category> [page]` lists the principles of a category" in text
    assert "a principle's number, key or title comes first" in text


def test_a_category_name_lists_its_principles_whatever_its_case(bot: Bot) -> None:
    reply = bot.command("/mission", "solve")
    assert reply.status == 200
    assert "Solve" in reply.json["blocks"][0]["text"]["text"]
    assert "`7.` :dart: *Own the outcome, not just the task*  `#own-the-outcome`" in reply.text
    assert "`#easy-to-reach`" not in reply.text
    assert "3 principles" in reply.text


def test_text_channel_and_team_containing_payload_still_reach_the_listener(bot: Bot) -> None:
    # Bolt's own parser mistakes any form body containing "payload" for an interaction.
    reply = bot.command(
        "/mission",
        "payload",
        channel_name="payload-team",
        team_domain="payloadco",
    )
    assert reply.status == 200
    assert "I don't know a principle called `payload`" in reply.text


def test_the_answer_comes_in_the_acknowledgement_well_inside_three_seconds(bot: Bot) -> None:
    bot.command("/mission")  # the first request of a team synchronises the mission
    # The code's time, not a busy machine's: tests/support/stall.py (it calls no Slack here).
    with stopwatch() as watch:
        reply = bot.command("/mission")
    assert reply.status == 200
    assert "Tidewater Freight: our mission" in reply.text
    assert watch.code_time() < 1.0, watch.describe()
    assert bot.fake.calls("response_url") == []
