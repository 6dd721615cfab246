"""`/mission`: parse the text, ask the mission service, answer in the acknowledgement.

The `/mission` router (bot/slack/commands.py) sends text that starts with no subcommand here;
the principle-of-the-day subcommands are declared in bot/slack/listeners/daily.py.
"""

from __future__ import annotations

from slack_bolt import Ack

from bot.audience import QuoteScope
from bot.blocks import mission as views
from bot.errors import UnknownPrinciple
from bot.kudos.service import zone
from bot.mission.service import Catalog, PrincipleInfo
from bot.reports.lived import Lived, principle_lived
from bot.slack.commands import MISSION, CommandRequest
from bot.slack.services import Services


@MISSION.subcommand("help", aliases=("?",), help="`/mission help` shows this help")
def show_help(ack: Ack, _request: CommandRequest, services: Services) -> None:
    reply = MISSION.help(services)
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


def show_mission(ack: Ack, request: CommandRequest, services: Services) -> None:
    """`/mission`, `/mission 3`, `/mission ownership`, `/mission <category> [page]`."""
    catalog = services.mission.catalog(services.db, request.team_id)
    found = _show(catalog, request.args)
    if isinstance(found, PrincipleInfo):
        reply = views.principle_detail(found, _lived(request, services, found))
    else:
        reply = found
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


MISSION.default = show_mission


def _lived(request: CommandRequest, services: Services, principle: PrincipleInfo) -> Lived:
    """How the principle was lived, quoting only what the asker may read where they asked."""
    with services.db.reading() as session:
        return principle_lived(
            session=session,
            team_id=request.team_id,
            principle_id=principle.id,
            now=services.clock(),
            where=zone(request.caller().timezone),
            scope=QuoteScope(channel_id=request.channel_id, viewer_id=request.user_id),
        )


def _show(catalog: Catalog, reference: str) -> views.Message | PrincipleInfo:
    """A principle (by number, key or title) before a category of the same name."""
    if not reference:
        return views.mission_overview(catalog)
    try:
        return catalog.resolve(reference)
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
