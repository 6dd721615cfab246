"""app.yaml declares exactly what the bot registers, and the registrations answer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.blocks import ids
from bot.blocks.ids import Command, Event, Shortcut
from bot.slack.commands import ROUTERS
from tests.conftest import Bot

ROOT = Path(__file__).resolve().parents[1]
LISTENERS = ROOT / "bot" / "slack" / "listeners"


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "app.yaml").read_text())


def registered(kind: str) -> set[str]:
    """Values registered with `app.<kind>(Enum.MEMBER)` across the listener modules."""
    found: set[str] = set()
    for path in LISTENERS.glob("*.py"):
        source = path.read_text()
        assert not re.search(rf"app\.{kind}\(\s*[\"']", source), f"{path.name}: use ids constants"
        for enum_name, member in re.findall(rf"app\.{kind}\(\s*(\w+)\.(\w+)", source):
            found.add(str(getattr(getattr(ids, enum_name), member)))
    if kind == "command":
        # Slash commands are registered by their routers (bot/slack/commands.py).
        found |= {str(router.command) for router in ROUTERS}
    return found


def test_every_registered_command_is_declared_and_the_other_way_round() -> None:
    declared = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert registered("command") == declared == {str(c) for c in Command}


def test_declared_commands_escape_mentions_and_explain_themselves() -> None:
    for command in manifest()["features"]["slash_commands"]:
        assert command["should_escape"] is True
        assert command["description"]
        assert command["usage_hint"]
        assert command["url"] == "https://YOUR-HOST/slack/events"


def test_shortcuts_and_events_match_the_registrations() -> None:
    features = manifest()["features"]
    settings = manifest()["settings"]
    declared_shortcuts = {s["callback_id"] for s in features["shortcuts"]}
    assert registered("shortcut") == declared_shortcuts == {str(s) for s in Shortcut}
    # message.channels and message.groups both arrive as the "message" event.
    declared_events = {e.split(".")[0] for e in settings["event_subscriptions"]["bot_events"]}
    assert declared_events == registered("event")
    assert registered("event") == {str(e) for e in Event}


def test_socket_mode_is_off_and_interactivity_points_at_the_events_endpoint() -> None:
    settings = manifest()["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["interactivity"]["request_url"] == "https://YOUR-HOST/slack/events"
    assert settings["event_subscriptions"]["request_url"] == "https://YOUR-HOST/slack/events"


def test_menus_served_by_the_bot_have_their_options_url() -> None:
    # An external_select asks this URL for its options; without it the menu stays empty.
    interactivity = manifest()["settings"]["interactivity"]
    assert registered("options") == {str(ids.KudosInput.PRINCIPLE)}
    assert interactivity["message_menu_options_url"] == "https://YOUR-HOST/slack/events"


def test_each_declared_command_is_answered_and_an_undeclared_one_gets_a_note(bot: Bot) -> None:
    for command in manifest()["features"]["slash_commands"]:
        reply = bot.command(command["command"], "help")
        assert reply.status == 200, command["command"]
        assert reply.text
    # A command Slack still sends after it left the manifest: 200 (no Slack error) and a hint.
    reply = bot.command("/not-ours", "help")
    assert reply.status == 200
    assert "I don't know `/not-ours`" in reply.text
    assert "/mission help" in reply.text


def test_org_wide_installs_can_be_made_from_the_manifest() -> None:
    # The bot serves an org-wide Enterprise Grid install (tests/test_slack_fixtures.py).
    assert manifest()["settings"]["org_deploy_enabled"] is True
