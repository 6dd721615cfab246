"""`/kudos settings`: a workspace's managers turn recognition in the conversation on or off
(principle reactions, kudos in a message) and choose the trigger word (bot/kudos/ways.py)."""

from __future__ import annotations

from slack_bolt import Ack

from bot.blocks.recognition import ways_message
from bot.errors import UserError
from bot.kudos.ways import change_ways
from bot.slack.commands import KUDOS, CommandRequest, Who
from bot.slack.listeners.reactions import current_ways
from bot.slack.services import Services

USAGE = (
    "Try `/kudos settings`, `/kudos settings reactions on|off`, "
    "`/kudos settings messages on|off` or `/kudos settings trigger WORD`."
)
SWITCHES = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}


@KUDOS.subcommand(
    "settings",
    help="`/kudos settings [reactions|messages on|off] [trigger WORD]` turns principle "
    "reactions and kudos in a message on or off for this workspace",
    who=Who.MANAGERS,
    refusal="Only workspace admins and missionbot managers can change these settings.",
)
def change_settings(ack: Ack, request: CommandRequest, services: Services) -> None:
    words = request.args.split()
    if words:
        switches, trigger_word = _changes(words)
        with services.db.transaction() as session:
            change_ways(
                session=session,
                team_id=request.team_id,
                user_id=request.user_id,
                now=services.clock(),
                reactions=switches.get("reactions"),
                messages=switches.get("messages"),
                trigger_word=trigger_word,
            )
    reply = ways_message(current_ways(services, request.team_id), changed=bool(words))
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


def _changes(words: list[str]) -> tuple[dict[str, bool], str | None]:
    """`reactions off messages on trigger props` → the switches and trigger word to change."""
    changes: dict[str, bool] = {}
    trigger_word: str | None = None
    pairs = list(zip(words[0::2], words[1::2], strict=False))
    if len(words) % 2:
        raise UserError(USAGE)
    for name, value in pairs:
        name = name.lower()
        if name in {"reactions", "messages"}:
            switch = SWITCHES.get(value.lower())
            if switch is None:
                raise UserError(f"`{name}` is `on` or `off`. {USAGE}")
            changes[name] = switch
        elif name == "trigger":
            trigger_word = value
        else:
            raise UserError(USAGE)
    return changes, trigger_word
