"""Help made from the declarations: every subcommand of `/mission` and `/kudos` is in its help,
and each word (aliases too) reaches the subcommand it was declared for."""

from __future__ import annotations

import pytest

from bot.slack.commands import KUDOS, MISSION, Router, Who
from tests.conftest import Bot

ROUTERS = {"/mission": MISSION, "/kudos": KUDOS}


@pytest.mark.parametrize("command", sorted(ROUTERS))
def test_every_subcommands_help_line_appears_in_its_commands_help(bot: Bot, command: str) -> None:
    router: Router = ROUTERS[command]
    text = bot.command(command, "help").text
    assert router.subcommands, "no subcommand declared"
    for sub in router.subcommands.values():
        assert sub.help_line() in text, sub.name
        assert f"`{command} {sub.name}" in sub.help, f"{sub.name}'s help shows another command"


@pytest.mark.parametrize("command", sorted(ROUTERS))
def test_help_alias_and_any_case_give_the_same_help(bot: Bot, command: str) -> None:
    text = bot.command(command, "help").text
    assert bot.command(command, "?").text == text
    assert bot.command(command, "HELP").text == text


def test_mission_help_names_the_weekly_digest(bot: Bot) -> None:
    assert "[digest]" in bot.command("/mission", "help").text


def test_managers_only_subcommands_are_marked_in_the_help(bot: Bot) -> None:
    text = bot.command("/kudos", "help").text
    export = KUDOS.subcommands["export"]
    assert export.who == Who.MANAGERS
    assert f"• Admins: {export.help}" in text
