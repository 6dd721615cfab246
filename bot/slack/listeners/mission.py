"""`/mission`: parse the text, ask the mission service, answer in the acknowledgement.

The `/mission` router (bot/slack/commands.py) sends text that starts with no subcommand here;
the principle-of-the-day subcommands are declared in bot/slack/listeners/daily.py.
"""

from __future__ import annotations

from slack_bolt import Ack

from bot.audience import QuoteScope
from bot.blocks import mission as views
from bot.errors import UnknownPrinciple
from bot.i18n.speech import N_, Speech
from bot.kudos.service import zone
from bot.mission.file import name_key
from bot.mission.service import UNCATEGORISED, Catalog, PrincipleInfo
from bot.reports.lived import Lived, principle_lived
from bot.slack.commands import MISSION, CommandRequest
from bot.slack.services import Services


@MISSION.subcommand(
    "help",
    aliases=("?",),
    help=N_("`/mission help` shows this help"),
    words={"de": ("hilfe",), "fr": ("aide",), "es": ("ayuda",), "pt_BR": ("ajuda",)},
)
def show_help(ack: Ack, request: CommandRequest, services: Services) -> None:
    reply = MISSION.help(services, request.speech())
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


def show_mission(ack: Ack, request: CommandRequest, services: Services) -> None:
    """`/mission`, `/mission 3`, `/mission ownership`, `/mission <category> [page]`: in the
    reader's language, the principles too where the mission file translates them."""
    t = request.speech()
    catalog = services.mission.catalog(services.db, request.team_id, t.language)
    found = _show(catalog, request.args, t)
    if isinstance(found, PrincipleInfo):
        reply = views.principle_detail(found, _lived(request, services, found), t)
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


def _show(catalog: Catalog, reference: str, t: Speech) -> views.Message | PrincipleInfo:
    """A principle (by number, key or title) before a category of the same name."""
    if not reference:
        return views.mission_overview(catalog, t)
    try:
        return catalog.resolve(reference)
    except UnknownPrinciple:
        listing = _category(catalog, reference, t)
        if listing is None:
            raise
        return listing


def _category(catalog: Catalog, reference: str, t: Speech) -> views.Message | None:
    """`/mission <category>` or `/mission <category> <page>`; the principles without a
    category by their English name or the reader's."""
    found, page = _named_category(catalog, reference, t), 1
    name, _space, number = reference.rpartition(" ")
    if found is None and name and number.isascii() and number.isdigit():
        found, page = _named_category(catalog, name, t), int(number)
    if found is None:
        return None
    category, principles = found
    if category == UNCATEGORISED:
        category = views.category_name(None, t)
    return views.category_page(category, principles, page=page, t=t)


def _named_category(
    catalog: Catalog, name: str, t: Speech
) -> tuple[str, list[PrincipleInfo]] | None:
    if name_key(name) == name_key(views.category_name(None, t)):
        name = UNCATEGORISED
    return catalog.category(name)
