"""`/kudos settings`: a workspace's managers turn recognition in the conversation on or off
(principle reactions, kudos in a message) and choose the trigger word (bot/kudos/ways.py)."""

from __future__ import annotations

from slack_bolt import Ack

from bot.blocks.recognition import ways_message
from bot.errors import UserError
from bot.i18n.speech import N_
from bot.i18n.whose import change_language
from bot.kudos.ways import change_ways
from bot.slack.commands import KUDOS, CommandRequest, Who
from bot.slack.listeners.reactions import current_ways
from bot.slack.services import Services

USAGE = N_(
    "Try `/kudos settings`, `/kudos settings reactions on|off`, "
    "`/kudos settings messages on|off`, `/kudos settings trigger WORD` or "
    "`/kudos settings language de`."
)
ON_OR_OFF = N_(
    "`{name}` is `on` or `off`. Try `/kudos settings`, `/kudos settings reactions on|off`, "
    "`/kudos settings messages on|off`, `/kudos settings trigger WORD` or "
    "`/kudos settings language de`."
)
SWITCHES = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}


@KUDOS.subcommand(
    "settings",
    help=N_(
        "`/kudos settings [reactions|messages on|off] [trigger WORD] [language CODE]` turns "
        "principle reactions and kudos in a message on or off for this workspace, and sets "
        "the language its channels read"
    ),
    who=Who.MANAGERS,
    refusal=N_("Only workspace admins and missionbot managers can change these settings."),
)
def change_settings(ack: Ack, request: CommandRequest, services: Services) -> None:
    words = request.args.split()
    language: str | None = None
    if words:
        switches, words_set = _changes(words)
        with services.db.transaction() as session:
            change_ways(
                session=session,
                team_id=request.team_id,
                user_id=request.user_id,
                now=services.clock(),
                reactions=switches.get("reactions"),
                messages=switches.get("messages"),
                trigger_word=words_set.get("trigger"),
            )
            if "language" in words_set:
                language = change_language(
                    session=session,
                    team_id=request.team_id,
                    user_id=request.user_id,
                    language=words_set["language"],
                    now=services.clock(),
                )
        if language is not None:
            services.languages.changed(request.team_id, language)
    reply = ways_message(
        current_ways(services, request.team_id),
        changed=bool(words),
        language=services.languages.of(services.db, request.team_id),
        t=request.speech(),
    )
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


def _changes(words: list[str]) -> tuple[dict[str, bool], dict[str, str]]:
    """`reactions off messages on trigger props language de` → the switches to change, and
    the trigger word and language."""
    changes: dict[str, bool] = {}
    chosen: dict[str, str] = {}
    pairs = list(zip(words[0::2], words[1::2], strict=False))
    if len(words) % 2:
        raise UserError(USAGE)
    for name, value in pairs:
        name = name.lower()
        if name in {"reactions", "messages"}:
            switch = SWITCHES.get(value.lower())
            if switch is None:
                raise UserError(ON_OR_OFF, fields={"name": name})
            changes[name] = switch
        elif name in {"trigger", "language"}:
            chosen[name] = value
        else:
            raise UserError(USAGE)
    return changes, chosen
