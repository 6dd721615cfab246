"""The console's pure parts, without a process: mrkdwn on screen, console lines, the clock."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from rich.console import Console

from bot.console.clock import ClockRefused, ConsoleClock, parse_target
from bot.console.commands import Click, Problem, React, Slash, parse
from bot.console.render import Renderer
from bot.console.workspace import Workspace

WORKSPACE = Workspace()
BEN = WORKSPACE.person("ben")


def screen(width: int = 80, *, terminal: bool = False) -> tuple[Renderer, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, color_system=None)
    return Renderer(console, WORKSPACE), out


def test_mrkdwn_shows_people_channels_links_and_entities_as_slack_does() -> None:
    renderer, _ = screen()
    text = renderer.mrkdwn(
        f"*Thanks* <@{BEN.id}> in <#C0SUPPORT> and <#C9OTHER|ops>: "
        "<https://example.com|the page> &lt;b&gt; &amp; <!here>"
    )
    assert text.plain == (
        "Thanks @ben in #support and #ops: the page (https://example.com) <b> & @here"
    )
    assert any(span.style == "bold" for span in text.spans)


def test_a_quote_is_barred_and_an_emoji_code_keeps_its_underscores_inside_italics() -> None:
    renderer, _ = screen()
    assert renderer.mrkdwn("&gt; well done\nnext").plain == "│ well done\nnext"
    assert renderer.mrkdwn("_:speech_balloon: Say it 1_").plain == ":speech_balloon: Say it 1"


def test_buttons_are_numbered_across_messages() -> None:
    renderer, out = screen()
    button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Go"}}
    actions = {"type": "actions", "block_id": "b", "elements": [button, button]}
    renderer.draw("first", blocks=[actions])
    renderer.draw("second", blocks=[actions])
    assert "[1: Go]  [2: Go]" in out.getvalue()
    assert "[3: Go]  [4: Go]" in out.getvalue()
    assert sorted(renderer.buttons) == [1, 2, 3, 4]


def test_slash_text_is_escaped_as_slack_escapes_it_and_principle_tags_stay() -> None:
    command = parse("/kudos @ben #support #plain-words thanks @here", WORKSPACE)
    assert command == Slash(
        "/kudos", f"<@{BEN.id}|ben> <#C0SUPPORT|support> #plain-words thanks <!here>"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("click 3", Click(3)),
        ("react 2 :dart:", React(2, "dart")),
        ("react 2 +1", React(2, "+1")),
    ],
)
def test_console_commands_are_read(line: str, expected: object) -> None:
    assert parse(line, WORKSPACE) == expected


@pytest.mark.parametrize("line", ["click", "click two", "react 2", "shortcut -1", "clik 2"])
def test_malformed_console_commands_say_how_they_go(line: str) -> None:
    assert isinstance(parse(line, WORKSPACE), Problem)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("click ²", Click(2)),  # what Unicode calls a form of 2, as the bot reads `/mission ²`
        ("click ٣", Click(3)),
        ("click \uff14", Click(4)),  # fullwidth
        ("react [5] :dart:", React(5, "dart")),
    ],
)
def test_numbers_are_read_in_any_script_as_the_bot_reads_them(line: str, expected: object) -> None:
    assert parse(line, WORKSPACE) == expected


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("click ½", "Which one? `click N`"),
        ("click 0", "Which one? `click N`"),
        ("click " + "9" * 5000, "Which one? `click N`"),  # past int()'s 4,300-digit limit
        ("shortcut 1e3", "Which one? `shortcut N`"),
        ("react 1 :💥:", "React how?"),
        ("react 1 :" + "a" * 101 + ":", "React how?"),
        ("react ² ", "React how?"),
        ("as @", "Who? `as @carol`"),
        ("in #", "Where? `in #support`"),
        ("as @" + "x" * 30_000, "There is no @xxxxxxxxx"),
        ("in #" + "y" * 30_000, "There is no #yyyyyyyyy"),
        ("/kudos @" + "z" * 30_000, "There is no @zzzzzzzzz"),
        (
            "say " + "w" * 1_000_000,
            "That line has 1,000,004 characters; Slack takes at most 40,000",
        ),
        ("x" * 1_000_000, "That line has 1,000,000 characters"),
    ],
)
def test_input_that_is_no_command_gets_one_short_line(line: str, says: str) -> None:
    command = parse(line, WORKSPACE)
    assert isinstance(command, Problem)
    assert command.message.startswith(says), command.message
    assert len(command.message) < 200


@pytest.mark.parametrize(
    "spec",
    [
        "0001-01-01 00:00",
        "0000-01-01 00:00",
        "9999-12-31 23:00",
        "2026-²²-01 09:00",
        "² ² ²",
        "x" * 1_000_000,
        "+99999d",
    ],
)
@pytest.mark.parametrize("timezone", ["Pacific/Kiritimati", "UTC", "Pacific/Pago_Pago"])
def test_a_clock_target_out_of_range_or_unreadable_is_refused_in_one_line(
    spec: str, timezone: str
) -> None:
    clock = ConsoleClock()
    with pytest.raises(ClockRefused) as refused:
        clock.move_to(parse_target(spec, clock(), timezone))
    assert len(str(refused.value)) < 300
    assert abs(clock() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)  # not moved


def test_clock_digits_of_any_script_are_read() -> None:
    now = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    assert parse_target("٠٩:٣٠", now, "UTC") == dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)
    assert parse_target("tomorrow \uff10\uff19:00", now, "UTC").hour == 9  # fullwidth


def test_clock_targets_are_read_in_the_persons_timezone() -> None:
    now = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)  # a Wednesday
    berlin = parse_target("tomorrow 09:00", now, "Europe/Berlin")
    assert berlin == dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
    assert parse_target("monday 9:30", now, "UTC") == dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
    assert parse_target("wed 09:00", now, "UTC").date() == dt.date(2026, 12, 9)  # never today
    assert parse_target("+90m", now, "UTC") == now + dt.timedelta(minutes=90)
    with pytest.raises(ClockRefused):
        parse_target("25:00", now, "UTC")


def test_the_clock_moves_forward_only() -> None:
    clock = ConsoleClock()
    later = clock() + dt.timedelta(days=1)
    clock.move_to(later)
    assert clock() >= later
    with pytest.raises(ClockRefused):
        clock.move_to(later - dt.timedelta(hours=1))


def test_the_stand_in_answers_the_web_api_as_slack_shapes_it() -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from bot.console.standin import StandIn

    standin = StandIn(WORKSPACE).start()
    try:
        client = WebClient(token="xoxb-console", base_url=standin.api_url)
        posted = client.chat_postMessage(channel="C0GENERAL", text="hello")
        history = client.conversations_history(
            channel="C0GENERAL", latest=posted["ts"], inclusive=True, limit=1
        )
        assert [m["text"] for m in history["messages"]] == ["hello"]
        assert client.users_info(user=BEN.id)["user"]["tz"] == BEN.timezone
        dm = client.conversations_open(users=BEN.id)["channel"]["id"]
        client.chat_postMessage(channel=dm, text="just for Ben")
        with pytest.raises(SlackApiError) as refused:
            client.api_call("pins.add", params={"channel": "C0GENERAL"})
        assert refused.value.response["error"] == "unknown_method"
        shown = standin.take()
        assert [(s.kind, s.channel_id) for s in shown] == [
            ("message", "C0GENERAL"),
            ("message", dm),
            ("unknown", None),
        ]
        assert WORKSPACE.conversation_label(dm) == "DM with @ben"
    finally:
        standin.stop()


def test_a_user_group_is_escaped_as_slack_escapes_it_and_listed_by_the_stand_in() -> None:
    from slack_sdk import WebClient

    from bot.console.standin import StandIn

    assert parse("/kudos @ops-team #fix-the-cause night shift", WORKSPACE) == Slash(
        "/kudos", "<!subteam^S0OPSTEAM|@ops-team> #fix-the-cause night shift"
    )
    standin = StandIn(WORKSPACE).start()
    try:
        client = WebClient(token="xoxb-console", base_url=standin.api_url)
        members = client.usergroups_users_list(usergroup="S0OPSTEAM")["users"]
        assert members == ["U0CONSOLEBEN", "U0CONSOLEFIN"]
    finally:
        standin.stop()
