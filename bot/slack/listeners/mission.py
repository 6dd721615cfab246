"""`/mission`: parse the text, ask the mission service, answer in the acknowledgement.

The `/mission` router (bot/slack/commands.py) sends text that starts with no subcommand here;
the principle-of-the-day subcommands are declared in bot/slack/listeners/daily.py.
"""

from __future__ import annotations

from slack_bolt import Ack

from bot.blocks import mission as views
from bot.errors import UnknownPrinciple
from bot.mission.service import Catalog
from bot.slack.commands import MISSION, CommandRequest
from bot.slack.services import Services


@MISSION.subcommand("help", aliases=("?",), help="`/mission help` shows this help")
def show_help(ack: Ack, _request: CommandRequest, services: Services) -> None:
    reply = MISSION.help(services)
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


def show_mission(ack: Ack, request: CommandRequest, services: Services) -> None:
    """`/mission`, `/mission 3`, `/mission ownership`, `/mission <category> [page]`."""
    reply = _show(services.mission.catalog(services.db, request.team_id), request.args)
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


MISSION.default = show_mission


def _show(catalog: Catalog, reference: str) -> views.Message:
    """A principle (by number, key or title) before a category of the same name."""
    if not reference:
        return views.mission_overview(catalog)
    try:
        return views.principle_detail(catalog.resolve(reference))
    except UnknownPrinciple:
        listing = _category(catalog, reference)
        if listing is None:
            raise
        return listing


def _category(catalog: Catalog, reference: str) -> views.Message | None:
    """`/mission <category>` or `/mission <category> <page>`."""
    found, page = catalog.category(reference), 1
    name, _space, number = reference.rpartition(" ")
    if found is None and name and number.isascii() and number.isdigit():
        found, page = catalog.category(name), int(number)
    if found is None:
        return None
    return views.category_page(*found, page=page)
