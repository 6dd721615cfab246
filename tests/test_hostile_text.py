"""Hostile text sent to every command that echoes or reposts what it was given: nothing in any
reply, or in anything the bot sends to Slack, pings, links, or reorders how text displays.

Slack sends its own markup raw (`<!channel>`, `<@U…>`, `<https://…|label>`) and what people
typed as `<`, `>`, `&` as entities (`&lt;`); a reply that echoes either must show it as text.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.text import BIDI_CONTROLS, echo, escape
from tests.conftest import Bot
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import BEN, kudos_rows
from tests.support.slack_client import HttpReply

RLO = "\u202e"
HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!subteam^S123|@ops>",
    "<@U123>",
    "<https://evil.example|ok>",
    "*bold*",
    f"https://evil.example/{RLO}fdp.exe",
    "\u2066isolated\u2069",
    "&lt;!channel&gt;",
    "back`tick",
]
# What may never reach Slack from user input: a special mention, a user mention of someone
# the bot didn't name itself, a link, or a bidi control.
FORBIDDEN = ("<!", "<@U123>", "<http", "<https", *sorted(BIDI_CONTROLS))

ECHOING = [
    ("/mission", "{}"),
    ("/mission", "#{}"),
    ("/mission", "subscribe {}"),
    ("/mission", "subscribe 08:30 {}"),
    ("/mission", "subscribe mon,{}"),
    ("/mission", "subscribe Europe/{}"),
    ("/kudos", "leaderboard {}"),
    ("/kudos", "leaderboard #{}"),
    ("/kudos", "principles {}"),
    ("/kudos", '<@UBEN0002> #"{}" thanks'),
]


def strings(node: Any) -> list[str]:
    """Every string in a reply or a Web API call, JSON-encoded fields (`blocks`) decoded."""
    if isinstance(node, str):
        if node[:1] in "[{":
            try:
                return strings(json.loads(node))
            except ValueError:
                pass
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return []


def assert_harmless(texts: list[str]) -> None:
    for text in texts:
        for bad in FORBIDDEN:
            assert bad not in text, f"{bad!r} reached Slack in {text!r}"


def reply_strings(reply: HttpReply) -> list[str]:
    return strings(reply.json) if reply.body else []


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize(("command", "template"), ECHOING)
def test_echoed_input_is_shown_as_text_and_pings_nothing(
    bot: Bot, slack: FakeSlack, command: str, template: str, hostile: str
) -> None:
    reply = bot.command(command, template.format(hostile))
    assert reply.status == 200
    texts = reply_strings(reply)
    assert texts, "the command said nothing"
    assert_harmless(texts)
    assert_harmless([s for call in slack.calls() for s in strings(call.params)])
    assert kudos_rows(bot.database) == []
    # Markup the person typed appears inside code spans only, never as formatting.
    assert all("*bold*" not in "".join(text.split("`")[0::2]) for text in texts)


def test_a_hostile_kudos_message_is_reposted_as_plain_text_everywhere(
    bot: Bot, slack: FakeSlack
) -> None:
    today = bot.command("/mission", "today").json
    [key] = set(re.findall(r"`#([a-z0-9-]+)`", "\n".join(strings(today))))
    message = " ".join(h for h in HOSTILE if h != "<@U123>")
    slack.usergroups["S123"] = [BEN]  # the group mention names Ben, already named
    reply = bot.command("/kudos", f"<@{BEN}> #{key} {message}")
    assert reply.status == 200
    slack.wait_for("chat.postMessage", count=2)  # the public message and the DM
    [row] = kudos_rows(bot.database)
    assert not set(row.message) & BIDI_CONTROLS
    assert "@channel" in row.message
    assert "https://evil.example/fdp.exe" in row.message
    # The morning card quotes the latest kudos of the principle of the day.
    card = bot.command("/mission", "today")
    assert "Lived recently" in card.text
    assert_harmless(reply_strings(card))
    calls = [s for call in slack.calls() for s in strings(call.params)]
    assert any("evil.example/fdp.exe" in s for s in calls)
    assert_harmless(calls)


def test_the_modal_prefilled_from_a_hostile_command_has_no_bidi_controls(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.command("/kudos", f"<@{BEN}> thanks {RLO}gnp.exe <!here>")
    [call] = slack.wait_for("views.open")
    assert_harmless(strings(call.params))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_echo_is_one_code_span_with_nothing_slack_would_act_on(hostile: str) -> None:
    shown = echo(hostile)
    assert shown.startswith("`")
    assert shown.endswith("`")
    assert shown.count("`") == 2
    assert "<" not in shown
    assert ">" not in shown
    assert not set(shown) & BIDI_CONTROLS


def test_escape_drops_every_bidi_control_and_escapes_markup() -> None:
    assert escape(f"a{''.join(sorted(BIDI_CONTROLS))}b <!here> & x") == "ab &lt;!here&gt; &amp; x"
