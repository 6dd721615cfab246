"""Each rule of giving, through each of the five ways in, as Slack sends them.

The ways in — `/kudos`, the form, the "Give kudos for this" shortcut (then its form), a principle
reaction and kudos in a message — share one flow (bot/kudos/flow.py). This table runs every rule
through every way that can express it, with real signed requests, so a way that grew its own copy
of a rule shows here. A reaction never argues: what the others refuse aloud, it ignores quietly
(except an allowance spent, noted once a day).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.db.models import Kudos, KudosAllowance
from bot.slack.listeners import reactions
from tests.conftest import Bot
from tests.support.conversation import message, new_ts, reaction_added, wait_until
from tests.support.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from tests.support.kudos import BEN, CARL, DANA, GIVER, message_shortcut, opened_view, submission
from tests.support.slack_client import DEFAULT_CHANNEL

PRINCIPLE, EMOJI = "own-the-outcome", "dart"
WORDS = "for carrying the release over the line"
# The simulator knows no user whose ID starts with UNKNOWN.
DEPLOYBOT, LEFT, STRANGER = "UDEPLOYBOT", DANA, "UNKNOWN99"
OPS = "S0OPSTEAM"
PRIVATE = "G0PRIVATE1"
MARKER_GIVER = CARL


@dataclass(frozen=True)
class Attempt:
    """One kudos to give: to whom (user IDs, or a user group's mention), and where."""

    to: tuple[str, ...]
    channel: str = DEFAULT_CHANNEL

    def mentions(self) -> str:
        return " ".join(
            f"<!subteam^{who}|@ops>" if who.startswith("S") else f"<@{who}>" for who in self.to
        )


# What the giver was told (empty when nothing was said).
Give = Callable[[Bot, FakeSlack, Attempt], str]


def by_command(bot: Bot, slack: FakeSlack, attempt: Attempt) -> str:
    text = f"{attempt.mentions()} #{PRINCIPLE} {WORDS}"
    return bot.command("/kudos", text, channel=attempt.channel).text


def _submitted(bot: Bot, payload: dict[str, object]) -> str:
    reply = bot.interaction(payload)
    assert reply.status == 200
    if reply.body:
        errors = reply.json.get("errors") or {}
        if errors:
            return " ".join(errors.values())
    return ""


def by_form(bot: Bot, slack: FakeSlack, attempt: Attempt) -> str:
    payload = submission(
        slack,
        recipients=list(attempt.to),
        principle=PRINCIPLE,
        message=WORDS,
        share_in=attempt.channel,
        source="modal",
    )
    return _submitted(bot, payload)


def by_shortcut(bot: Bot, slack: FakeSlack, attempt: Attempt) -> str:
    opened = len(slack.calls("views.open"))
    bot.interaction(message_shortcut(slack, author=attempt.to[0], text="shipped it"))
    slack.wait_for("views.open", count=opened + 1)
    metadata = json.loads(opened_view(slack)["private_metadata"])
    payload = submission(
        slack,
        recipients=list(attempt.to),
        principle=PRINCIPLE,
        message=WORDS,
        share_in=attempt.channel,
        source="shortcut",
    )
    payload["view"]["private_metadata"] = json.dumps(metadata)  # type: ignore[index]
    return _submitted(bot, payload)


def _ephemerals(slack: FakeSlack) -> list[str]:
    return [str(c["text"]) for c in slack.calls("chat.postEphemeral") if c.get("user") == GIVER]


def by_message(bot: Bot, slack: FakeSlack, attempt: Attempt) -> str:
    before = len(slack.calls("chat.postEphemeral")) + len(slack.calls("reactions.add"))
    said = message(
        f"kudos {attempt.mentions()} #{PRINCIPLE} {WORDS}",
        user=GIVER,
        channel=attempt.channel,
        channel_type="group" if attempt.channel.startswith("G") else "channel",
    )
    assert bot.event(said).status == 200
    wait_until(
        lambda: len(slack.calls("chat.postEphemeral")) + len(slack.calls("reactions.add")) > before,
        what="a tick or a note",
    )
    return " ".join(_ephemerals(slack))


class Handled(logging.Handler):
    """Collects the reaction listener's one line per reaction it took to the flow."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("principle reaction"):
            self.lines.append(record.getMessage())


def by_reaction(bot: Bot, slack: FakeSlack, attempt: Attempt) -> str:
    [author] = attempt.to
    channel_type = "group" if attempt.channel.startswith("G") else "channel"
    event = reaction_added(
        user=GIVER,
        name=EMOJI,
        item_user=author,
        ts=new_ts(),
        channel=attempt.channel,
        channel_type=channel_type,
    )
    listener = logging.getLogger(reactions.__name__)
    handled, level = Handled(), listener.level
    listener.addHandler(handled)
    listener.setLevel(logging.INFO)
    try:
        assert bot.event(event).status == 200
        if author in {GIVER, BOT_USER_ID}:
            # A reaction to your own message or the bot's never reaches the flow: nothing to
            # wait for but a later reaction's kudos (as tests/test_principle_reactions.py does).
            marker = new_ts()
            bot.event(reaction_added(user=MARKER_GIVER, name=EMOJI, item_user=BEN, ts=marker))
            wait_until(lambda: any(r.message_ts == marker for r in _rows(bot)), what="a marker")
        else:
            wait_until(lambda: bool(handled.lines), what="the reaction handled")
    finally:
        listener.removeHandler(handled)
        listener.setLevel(level)
    if handled.lines and "overallowance" in handled.lines[0]:
        wait_until(lambda: bool(_ephemerals(slack)), what="the allowance note")
    return " ".join(_ephemerals(slack))


WAYS: dict[str, Give] = {
    "command": by_command,
    "form": by_form,
    "shortcut": by_shortcut,
    "message": by_message,
    "reaction": by_reaction,
}
# A form has no group picker (the command fills one in as its members), a reaction names one.
WITH_GROUPS = ("command", "message")


def _rows(bot: Bot) -> list[Kudos]:
    with bot.database.reading() as session:
        return list(session.scalars(select(Kudos).order_by(Kudos.id)))


def given_by_giver(bot: Bot) -> list[Kudos]:
    return [row for row in _rows(bot) if row.giver_id == GIVER]


@dataclass(frozen=True)
class Rule:
    attempt: Attempt
    # Who receives it; () when refused.
    receivers: tuple[str, ...]
    # What the giver is told when a way refuses aloud (a reaction says nothing).
    refusal: str = ""
    ways: tuple[str, ...] = tuple(WAYS)
    # Said even by a reaction.
    reaction_note: str = ""
    allowance_spent: bool = False
    audience: str | None = None


RULES: dict[str, Rule] = {
    "a kudos is recorded and its receiver told": Rule(Attempt((BEN,)), receivers=(BEN,)),
    "not to yourself": Rule(
        Attempt((GIVER,)),
        receivers=(),
        refusal="can't give one to yourself",
        # A reaction to your own message is no kudos at all: filtered before the flow.
    ),
    "not to a bot": Rule(Attempt((DEPLOYBOT,)), receivers=(), refusal="@deploybot is a bot"),
    "not to the bot itself": Rule(Attempt((BOT_USER_ID,)), receivers=(), refusal="is a bot"),
    "not to someone who left": Rule(Attempt((LEFT,)), receivers=(), refusal="no longer active"),
    "not to someone Slack doesn't know": Rule(
        Attempt((STRANGER,)), receivers=(), refusal="can't find one of those people"
    ),
    "a group's bots and leavers are passed over, and it counts once": Rule(
        Attempt((OPS,)), receivers=(BEN, CARL), ways=WITH_GROUPS
    ),
    "the daily allowance": Rule(
        Attempt((BEN,)),
        receivers=(),
        refusal="today's kudos allowance",
        reaction_note="today's 5 kudos",
        allowance_spent=True,
    ),
    "the audience of where it is given": Rule(
        Attempt((BEN,), channel=PRIVATE), receivers=(BEN,), audience="private"
    ),
}

CASES = [
    pytest.param(rule, way, id=f"{name} / {way}")
    for name, rule in RULES.items()
    for way in rule.ways
]


def spend_the_allowance(bot: Bot) -> None:
    """Today's five used, whatever the giver's day is (UTC's yesterday, today or tomorrow)."""
    today = dt.datetime.now(dt.UTC).date()
    with bot.database.transaction() as session:
        for offset in (-1, 0, 1):
            day = today + dt.timedelta(days=offset)
            session.add(KudosAllowance(team_id=TEAM_ID, giver_id=GIVER, day=day, used=5))


@pytest.mark.parametrize(("rule", "way"), CASES)
def test_each_rule_holds_for_each_way_in(bot: Bot, slack: FakeSlack, rule: Rule, way: str) -> None:
    slack.add_user(DEPLOYBOT, is_bot=True, profile={"display_name": "deploybot"})
    slack.add_user(LEFT, deleted=True)
    slack.usergroups[OPS] = [BEN, CARL, GIVER, DEPLOYBOT, LEFT]
    slack.channels[PRIVATE] = {"id": PRIVATE, "is_private": True, "is_member": True}
    if rule.allowance_spent:
        spend_the_allowance(bot)
    said = WAYS[way](bot, slack, rule.attempt)
    rows = given_by_giver(bot)
    assert sorted(row.receiver_id for row in rows) == sorted(rule.receivers)
    if not rule.receivers:
        if way == "reaction":
            assert rule.reaction_note in said if rule.reaction_note else said == ""
        else:
            assert rule.refusal in said
        return
    # The command's answer is its confirmation; the others confirm elsewhere (a DM, a tick).
    assert "Kudos recorded" in said if way == "command" else said == ""
    assert {row.source for row in rows} == {"modal" if way == "form" else way}
    assert {row.channel_id for row in rows} == {rule.attempt.channel}
    if rule.audience:
        assert {row.audience for row in rows} == {rule.audience}
    # A group counts once, a person named once each.
    assert sum(row.used for row in _allowances(bot)) == 1
    for receiver in rule.receivers:  # the announcement's DM, queued with the kudos
        slack.wait_for("chat.postMessage", where=lambda c, who=receiver: c.get("channel") == who)


def _allowances(bot: Bot) -> list[KudosAllowance]:
    with bot.database.reading() as session:
        return list(session.scalars(select(KudosAllowance).where(KudosAllowance.giver_id == GIVER)))
