"""`/mission`: parse the text, ask the mission service, answer in the acknowledgement."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.blocks import mission as views
from bot.blocks.daily import HELP_LINES as DAILY_HELP
from bot.db.engine import Database
from bot.mission import Catalog, MissionKeeper
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
    if not reference:
        return views.mission_overview(catalog)
    return views.principle_detail(catalog.resolve(reference))
