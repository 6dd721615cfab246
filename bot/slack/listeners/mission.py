"""`/mission`: parse the text, ask the mission service, answer in the acknowledgement."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.blocks import mission as views
from bot.blocks.daily import HELP_LINES as DAILY_HELP
from bot.db.engine import Database
from bot.errors import UnknownPrinciple
from bot.mission.service import Catalog, MissionKeeper
from bot.slack.deadline import after_ack_safe
from bot.slack.ids import Command


def register(app: App) -> None:
    app.command(Command.MISSION)(after_ack_safe(handle_mission))


def handle_mission(ack: Ack, command: dict[str, Any], db: Database, mission: MissionKeeper) -> None:
    text = (command.get("text") or "").strip()
    subcommand = text.split(maxsplit=1)[0].lower() if text else ""
    if subcommand in {"help", "?"}:
        reply = views.mission_help(DAILY_HELP)
    else:
        reply = _show(mission.catalog(db, command["team_id"]), text)
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


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
