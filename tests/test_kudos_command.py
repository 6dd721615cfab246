"""`/kudos` over signed HTTP: the grammar, the rules, undo, me, help, the Bolt "payload" trap."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from bot.db.models import Kudos, KudosAllowance, Principle
from tests.conftest import Bot
from tests.support.fake_slack import BOT_USER_ID, FakeSlack
from tests.support.kudos import (
    BEN,
    CARL,
    DANA,
    GIVER,
    allowance_used,
    block,
    kudos_rows,
    opened_view,
    outbox_settled,
)

# The example mission file's principles, as /mission numbers them.
PLAIN_WORDS, NO_SURPRISES, FIX_THE_CAUSE = "plain-words", "no-surprises", "fix-the-cause"


def mention(user_id: str, name: str | None = None) -> str:
    return f"<@{user_id}|{name}>" if name else f"<@{user_id}>"


def principle_key(bot: Bot, row: Kudos) -> str:
    with bot.database.transaction() as session:
        principle = session.get(Principle, row.principle_id)
        assert principle is not None
        return principle.key


# -- the grammar ---------------------------------------------------------------------------


def test_kudos_with_mention_key_and_message_is_recorded(bot: Bot, slack: FakeSlack) -> None:
    reply = bot.command("/kudos", f"{mention(DANA, 'dana')} #plain-words clear delay notice")
    assert reply.status == 200
    rows = kudos_rows(bot.database)
    assert [(r.giver_id, r.receiver_id, r.message, r.source) for r in rows] == [
        (GIVER, DANA, "clear delay notice", "command")
    ]
    assert principle_key(bot, rows[0]) == PLAIN_WORDS
    assert not slack.calls("views.open")


def test_parts_in_any_order_and_several_people_share_one_group(bot: Bot) -> None:
    text = f"thanks for the 2am fix {mention(DANA)} #fix-the-cause {mention(BEN, 'ben')}"
    assert bot.command("/kudos", text).status == 200
    rows = kudos_rows(bot.database)
    assert [r.receiver_id for r in rows] == [DANA, BEN]
    assert {r.message for r in rows} == {"thanks for the 2am fix"}
    assert len({r.group_id for r in rows}) == 1
    assert {principle_key(bot, r) for r in rows} == {FIX_THE_CAUSE}


def test_principle_by_number_and_by_fuzzy_title(bot: Bot) -> None:
    bot.command("/kudos", f"{mention(DANA)} #3 quoted the real price")
    bot.command("/kudos", f"{mention(DANA)} #plainwords short and clear")
    bot.command("/kudos", f'{mention(BEN)} #"quiet work" checked every seal')
    bot.command("/kudos", f"{mention(CARL)} #invoice no surprises at all")
    keys = [principle_key(bot, r) for r in kudos_rows(bot.database)]
    assert keys == [NO_SURPRISES, PLAIN_WORDS, "notice-the-work", NO_SURPRISES]


def test_unknown_principle_suggests_close_keys_and_records_nothing(bot: Bot) -> None:
    reply = bot.command("/kudos", f"{mention(DANA)} #plainspeak thanks")
    assert reply.json["response_type"] == "ephemeral"
    assert "I don't know a principle called `plainspeak`" in reply.text
    assert "`#plain-words`" in reply.text
    assert "`#decide-with-data`" in reply.text
    assert kudos_rows(bot.database) == []


def test_two_different_principles_are_refused(bot: Bot) -> None:
    reply = bot.command("/kudos", f"{mention(DANA)} #1 #2 thanks")
    assert "exactly one principle" in reply.text
    assert kudos_rows(bot.database) == []


def test_bolt_payload_trap_text_channel_and_domain_containing_payload(
    bot: Bot, slack: FakeSlack
) -> None:
    reply = bot.command(
        "/kudos",
        f"{mention(BEN, 'ben')} #fix-the-cause fixed the payload bug",
        channel_name="payload-war-room",
        team_domain="payload-freight",
    )
    assert reply.status == 200
    assert [(r.receiver_id, r.message) for r in kudos_rows(bot.database)] == [
        (BEN, "fixed the payload bug")
    ]
    assert "Kudos recorded" in reply.text


def test_missing_message_opens_modal_prefilled_with_what_was_given(
    bot: Bot, slack: FakeSlack
) -> None:
    reply = bot.command("/kudos", f"{mention(DANA)} {mention(BEN)} #plain-words")
    assert reply.status == 200
    view = opened_view(slack)
    assert block(view, "recipients")["element"]["initial_users"] == [DANA, BEN]
    assert block(view, "principle")["element"]["initial_option"]["value"] == PLAIN_WORDS
    assert "initial_value" not in block(view, "message")["element"]
    share_in = block(view, "share_in")["element"]
    assert share_in["initial_conversation"] == "CGENERAL01"
    assert share_in["response_url_enabled"] is True
    assert kudos_rows(bot.database) == []


def test_bare_kudos_opens_empty_modal_with_principles_grouped_by_category(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.command("/kudos")
    view = opened_view(slack)
    groups = block(view, "principle")["element"]["option_groups"]
    assert [g["label"]["text"] for g in groups] == ["Easy", "Recognize", "Solve"]
    first = groups[0]["options"][0]
    assert first["text"]["text"] == ":telephone_receiver: 1. Be easy to reach"
    assert first["value"] == "easy-to-reach"
    assert block(view, "message")["element"]["multiline"] is True


def test_missing_recipient_opens_modal_with_principle_and_message(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.command("/kudos", "#no-surprises told the customer first")
    view = opened_view(slack)
    assert "initial_users" not in block(view, "recipients")["element"]
    assert block(view, "principle")["element"]["initial_option"]["value"] == NO_SURPRISES
    assert block(view, "message")["element"]["initial_value"] == "told the customer first"


@pytest.mark.parametrize("blank", ["   ", "\u200b\u200b", "\u200f \u200e", "\u2800"])
def test_whitespace_or_zero_width_message_counts_as_missing(
    bot: Bot, slack: FakeSlack, blank: str
) -> None:
    bot.command("/kudos", f"{mention(DANA)} #plain-words {blank}")
    assert "initial_value" not in block(opened_view(slack), "message")["element"]
    assert kudos_rows(bot.database) == []


def test_over_long_message_is_refused_with_its_length(bot: Bot) -> None:
    reply = bot.command("/kudos", f"{mention(DANA)} #plain-words " + "x" * 1001)
    assert "1,001 characters" in reply.text
    assert "at most 1,000" in reply.text
    assert kudos_rows(bot.database) == []


def test_message_of_exactly_1000_characters_is_recorded(bot: Bot) -> None:
    bot.command("/kudos", f"{mention(DANA)} #plain-words " + "y" * 1000)
    assert len(kudos_rows(bot.database)[0].message) == 1000


def test_emoji_right_to_left_and_zero_width_text_is_kept(bot: Bot, slack: FakeSlack) -> None:
    message = "🎉 شكراً جزيلاً \u200ffor the מסמך\u200b fix 👍🏽"
    reply = bot.command("/kudos", f"{mention(DANA)} #plain-words {message}")
    assert reply.status == 200
    # The right-to-left mark goes: bidi controls can disguise a reposted message.
    assert kudos_rows(bot.database)[0].message == message.replace("\u200f", "")
    [post] = slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == "CGENERAL01")
    assert "شكراً جزيلاً" in post["text"]


# -- the rules -----------------------------------------------------------------------------


def test_kudos_to_self_is_refused_and_nothing_recorded(bot: Bot, slack: FakeSlack) -> None:
    reply = bot.command("/kudos", f"{mention(GIVER)} #plain-words I am great")
    assert reply.json["response_type"] == "ephemeral"
    assert "can't give one to yourself" in reply.text
    assert kudos_rows(bot.database) == []
    assert allowance_used(bot.database) == 0
    assert not slack.calls("chat.postMessage")


def test_kudos_to_a_bot_is_refused(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user("UHELPBOT1", is_bot=True, profile={"display_name": "deploybot"})
    reply = bot.command("/kudos", f"{mention(DANA)} {mention('UHELPBOT1')} #plain-words thanks")
    assert "@deploybot is a bot" in reply.text
    assert kudos_rows(bot.database) == []


def test_kudos_to_missionbot_itself_is_refused(bot: Bot) -> None:
    reply = bot.command("/kudos", f"{mention(BOT_USER_ID)} #plain-words thanks")
    assert "is a bot" in reply.text
    assert kudos_rows(bot.database) == []


def test_kudos_to_a_deactivated_user_is_refused(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user("UGONE0001", deleted=True, profile={"display_name": "olga"})
    reply = bot.command("/kudos", f"{mention('UGONE0001')} #plain-words thanks")
    assert "@olga is no longer active" in reply.text
    assert kudos_rows(bot.database) == []


def test_unknown_user_is_refused(bot: Bot) -> None:
    reply = bot.command("/kudos", f"{mention('UNKNOWN01')} #plain-words thanks")
    assert "can't find one of those people" in reply.text
    assert kudos_rows(bot.database) == []


def test_retired_principle_is_not_offered_and_suggestions_are_given(bot: Bot) -> None:
    bot.command("/kudos", "help")  # the first request synchronises the mission file
    with bot.database.transaction() as session:
        session.execute(
            update(Principle)
            .where(Principle.key == PLAIN_WORDS)
            .values(retired_at=dt.datetime.now(dt.UTC))
        )
    reply = bot.command("/kudos", f"{mention(DANA)} #plain-words thanks")
    assert "I don't know a principle called `plain-words`" in reply.text
    assert "`#plain-words`" not in reply.text.split("The principles are:")[1]
    assert kudos_rows(bot.database) == []


def test_daily_allowance_counts_recipients_and_refuses_beyond_it(bot: Bot) -> None:
    bot.command("/kudos", f"{mention(DANA)} {mention(BEN)} {mention(CARL)} #1 team effort")
    bot.command("/kudos", f"{mention('UDAN00004')} #1 great")
    reply = bot.command("/kudos", f"{mention('UEVE00005')} {mention('UFAY00006')} #1 great")
    assert "you have 1 left and named 2 people" in reply.text
    assert len(kudos_rows(bot.database)) == 4
    assert allowance_used(bot.database) == 4
    bot.command("/kudos", f"{mention('UEVE00005')} #1 great")
    reply = bot.command("/kudos", f"{mention('UFAY00006')} #1 great")
    assert "you have 0 left" in reply.text
    assert len(kudos_rows(bot.database)) == 5


def test_allowance_renews_at_the_givers_local_midnight(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user(GIVER, tz="Asia/Kolkata")
    # 23:50 in Kolkata is 18:20 UTC: the UTC date is the same on both sides of local midnight.
    with time_machine.travel(dt.datetime(2026, 3, 9, 18, 20, tzinfo=dt.UTC), tick=True):
        for n in range(5):
            bot.command("/kudos", f"{mention(f'UPEER{n:04d}')} #1 before midnight")
        refused = bot.command("/kudos", f"{mention('UPEER9999')} #1 before midnight")
        assert "you have 0 left" in refused.text
    with time_machine.travel(dt.datetime(2026, 3, 9, 18, 40, tzinfo=dt.UTC), tick=True):
        bot.command("/kudos", f"{mention('UPEER9999')} #1 after local midnight")
    assert len(kudos_rows(bot.database)) == 6


def test_same_kudos_within_a_minute_counts_once(bot: Bot, slack: FakeSlack) -> None:
    text = f"{mention(DANA)} #plain-words thanks for the call"
    with time_machine.travel(dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC), tick=True):
        assert "Kudos recorded" in bot.command("/kudos", text).text
        again = bot.command("/kudos", text)
        outbox_settled(bot.database)
    assert "already gave this kudos" in again.text
    assert len(kudos_rows(bot.database)) == 1
    assert allowance_used(bot.database) == 1
    assert len(slack.calls("chat.postMessage")) == 2  # one public post, one DM
    with time_machine.travel(dt.datetime(2026, 5, 4, 12, 1, 5, tzinfo=dt.UTC), tick=True):
        bot.command("/kudos", text)
    assert len(kudos_rows(bot.database)) == 2


# -- undo, me, help ------------------------------------------------------------------------


def test_undo_withdraws_the_last_kudos_and_updates_its_public_message(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.command("/kudos", f"{mention(DANA)} {mention(BEN)} #plain-words clear words")
    outbox_settled(bot.database)
    public = next(c for c in slack.calls("chat.postMessage") if c["channel"] == "CGENERAL01")
    reply = bot.command("/kudos", "undo")
    assert reply.status == 200
    update_call = slack.wait_for("chat.update")[0]
    assert update_call["channel"] == "CGENERAL01"
    rows = kudos_rows(bot.database, include_withdrawn=True)
    assert update_call["ts"] == rows[0].public_message_ts
    assert public is not None
    assert "withdrew a kudos" in update_call["text"]
    assert all(r.withdrawn_at is not None for r in rows)
    assert kudos_rows(bot.database) == []
    assert allowance_used(bot.database) == 0
    assert "Withdrawn" in reply.text


def test_undo_after_ten_minutes_is_refused(bot: Bot) -> None:
    with time_machine.travel(dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC), tick=True):
        bot.command("/kudos", f"{mention(DANA)} #plain-words thanks")
    with time_machine.travel(dt.datetime(2026, 5, 4, 9, 11, 30, tzinfo=dt.UTC), tick=True):
        reply = bot.command("/kudos", "undo")
    assert "11 minutes ago" in reply.text
    assert len(kudos_rows(bot.database)) == 1


def test_undo_with_nothing_to_undo_says_so(bot: Bot) -> None:
    assert "no kudos to undo" in bot.command("/kudos", "undo").text


def test_me_shows_received_and_given_by_principle_this_month_and_all_time(
    bot: Bot,
) -> None:
    with time_machine.travel(dt.datetime(2026, 4, 20, 15, 0, tzinfo=dt.UTC), tick=True):
        bot.command("/kudos", f"{mention(DANA)} #plain-words last month", user=BEN)
    with time_machine.travel(dt.datetime(2026, 5, 4, 15, 0, tzinfo=dt.UTC), tick=True):
        bot.command("/kudos", f"{mention(DANA)} #plain-words this month", user=BEN)
        bot.command("/kudos", f"{mention(DANA)} #fix-the-cause this month", user=CARL)
        bot.command("/kudos", f"{mention(BEN)} #fix-the-cause thanks", user=DANA)
        reply = bot.command("/kudos", "me", user=DANA)
    text = reply.text
    assert reply.json["response_type"] == "ephemeral"
    assert "*Received* — 2 this month, 3 all time" in text
    assert "*Say it in plain words* — 1 this month · 2 all time" in text
    assert "*Given* — 1 this month, 1 all time" in text
    assert "You have 4 of 5 kudos left today." in text


def test_help_lists_every_subcommand(bot: Bot) -> None:
    reply = bot.command("/kudos", "help")
    for usage in ("/kudos @ana #plain-words", "/kudos undo", "/kudos me", "/kudos help"):
        assert usage in reply.text
    assert "5 kudos to give a day" in reply.text


# -- any text: a kudos or a clear answer, never a 500 ----------------------------------------

fragments = st.one_of(
    st.sampled_from(
        [
            mention(DANA, "dana"),
            mention(BEN),
            mention(GIVER),
            mention(BOT_USER_ID),
            "#plain-words",
            "#3",
            "#99",
            "#invoice",
            '#"quiet work"',
            "#",
            "<#C0PAYLOAD|payload>",
            "<!channel>",
            "&lt;https://evil.example|bank&gt;",
            "help",
            "undo",
            "me",
            "\u200b",
            "\u200f",
            "🎉",
            "payload",
        ]
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",)),
        max_size=40,
    ),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parts=st.lists(fragments, max_size=6), long_tail=st.booleans())
def test_any_text_yields_a_kudos_or_a_clear_message(
    bot: Bot, slack: FakeSlack, parts: list[str], long_tail: bool
) -> None:
    with bot.database.transaction() as session:
        session.execute(delete(Kudos))
        session.execute(delete(KudosAllowance))
    opened = len(slack.calls("views.open"))
    text = " ".join(parts) + (" z" * 600 if long_tail else "")
    reply = bot.command("/kudos", text)
    assert reply.status == 200
    recorded = len(kudos_rows(bot.database))
    modal = len(slack.calls("views.open")) > opened
    assert "Something went wrong" not in reply.text
    if "Kudos recorded" in reply.text:  # the confirmation is the acknowledgement
        assert recorded > 0
        assert not modal
    elif reply.text:
        assert reply.json["response_type"] == "ephemeral"
        assert recorded == 0
        assert not modal
    else:
        assert modal
        assert recorded == 0
