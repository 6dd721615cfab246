"""`/kudos`, the kudos modal, the "Give kudos for this" shortcut and the "Give kudos" button.

Thin: parse (bot/kudos/grammar.py) → the give flow (bot/kudos/flow.py) looks people up in
Slack and commits the kudos with its messages queued in the outbox (bot/slack/outbound/kudos.py) →
the acknowledgement carries the giver's confirmation.
Refusals are raised, never caught here: the one error handler turns them into an ephemeral
reply, or into inline errors when the request is a modal submission.

Subcommands are declared on the `/kudos` router (bot/slack/commands.py); text that starts with
none of them is a kudos.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.blocks.ids import Action, KudosBlock, KudosInput, Shortcut, View
from bot.blocks.kudos import (
    ModalPrefill,
    give_kudos_modal,
    kudos_confirmation,
    kudos_summary,
    not_editable,
    principle_options,
    undo_confirmation,
)
from bot.errors import KudosRefused
from bot.i18n.speech import N_
from bot.kudos.flow import Announce, KudosRequest, give_and_queue
from bot.kudos.grammar import is_blank, parse_kudos
from bot.kudos.service import GivenKudos, Source, summary, undo
from bot.slack.commands import KUDOS, CommandRequest
from bot.slack.confirm import confirm
from bot.slack.deadline import SlackTooSlow, after_ack_safe
from bot.slack.installation import team_of
from bot.slack.lookups import SlackDirectory
from bot.slack.outbound.kudos import queue_kudos, queue_withdrawal
from bot.slack.outbound.reactions import queue_thread_update
from bot.slack.services import Services
from bot.slack.surfaces import (
    GiveButton,
    Interaction,
    KudosSubmission,
    MessageShortcut,
    asker,
    interaction,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KudosToGive:
    """A complete kudos from the command or the form, and where to answer and announce it."""

    request: KudosRequest
    response_url: str | None
    # Where to announce it: the thread of the message it is about or was given in.
    thread_ts: str | None = None


def register(app: App) -> None:
    app.view(View.GIVE_KUDOS)(
        after_ack_safe(interaction(KudosSubmission.of, handle_kudos_submission))
    )
    app.shortcut(Shortcut.GIVE_KUDOS_FOR_MESSAGE)(
        after_ack_safe(interaction(MessageShortcut.of, handle_give_for_message))
    )
    app.action(Action.GIVE_KUDOS)(after_ack_safe(interaction(GiveButton.of, handle_give_button)))
    app.options(KudosInput.PRINCIPLE)(handle_principle_options)


def give_from_command(ack: Ack, request: CommandRequest, services: Services) -> None:
    """`/kudos @ana #key message`: record it, or open the modal when a part is missing."""
    catalog = request.catalog()
    draft = parse_kudos(request.args, catalog)
    who = asker(request.context)
    if not draft.complete:
        directory = SlackDirectory.of(
            services, request.quick_client, who.bot_user_id, who.workspace_id
        )
        members = directory.members(
            team_id=request.team_id,
            giver_id=request.user_id,
            group_ids=draft.groups,
            named_ids=draft.recipients,
        )
        prefill = ModalPrefill(
            # The form has no group picker: a group is filled in as its members.
            recipients=(*draft.recipients, *members),
            principle_key=draft.principle.key if draft.principle else None,
            message="" if is_blank(draft.message) else draft.message,
            channel_id=request.channel_id,
            source=Source.COMMAND,
        )
        t = request.speech()
        request.quick_client.views_open(
            trigger_id=request.command["trigger_id"],
            view=give_kudos_modal(
                services.mission.catalog(services.db, request.team_id, t.language), prefill, t
            ),
        )
        ack()
        return
    assert draft.principle is not None
    kudos = KudosRequest(
        team_id=request.team_id,
        giver_id=request.user_id,
        named_ids=tuple(draft.recipients),
        group_ids=tuple(draft.groups),
        principle_id=draft.principle.id,
        message=draft.message,
        channel_id=request.channel_id,
        source=Source.COMMAND,
    )
    give_and_deliver(ack, KudosToGive(kudos, response_url=request.response_url), who, services)


KUDOS.default = give_from_command


def give_and_deliver(ack: Ack, kudos: KudosToGive, who: Interaction, services: Services) -> None:
    """Give it by the one flow (bot/kudos/flow.py), then answer the giver.

    One read finds the people and the conversation's audience (bot/slack/lookups.py); one
    transaction records the kudos, what Slack told us on the way, and the announcement and
    DMs, into the outbox; the sender posts them at Slack's pace (bot/slack/outbound/kudos.py).
    Nothing here waits on Slack after the people are known (from the directory, normally
    without a call).
    """
    queued = give_and_queue(
        kudos.request,
        # Before the ack: the look-ups end in time.
        directory=SlackDirectory.of(services, who.quick_client, who.bot_user_id, who.workspace_id),
        database=services.db,
        announce=announcement(who.team_id, kudos.response_url, kudos.thread_ts, services),
        limit=services.settings.kudos_daily_limit,
        now=services.clock(),
    )
    if queued.channels:  # nothing for a duplicate
        services.queued(queued.channels)
    t = services.reader_speech(who.team_id, _locale_of(services, who.team_id, who.user_id))
    reply = kudos_confirmation(queued.given.in_language(t.language), t)
    if kudos.request.source == Source.COMMAND:
        ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
        return
    # A form's acknowledgement closes it and can carry no message: the confirmation follows.
    ack()
    confirm(
        client=who.client,
        user_id=who.user_id,
        channel_id=kudos.request.channel_id,
        response_url=kudos.response_url,
        message=reply,
    )


def _locale_of(services: Services, team_id: str, user_id: str) -> str | None:
    """The giver's Slack locale, from the people directory the give just read (no Slack)."""
    person = services.users.cached(team_id, [user_id]).get(user_id)
    return person.locale if person else None


def announcement(
    team_id: str,
    response_url: str | None,
    thread_ts: str | None,
    services: Services,
    *,
    held_until: Callable[[], dt.datetime] | None = None,
) -> Announce:
    """A kudos's announcement (in `thread_ts`'s thread, if given) and its receivers' DMs, held
    until `held_until()` (a kudos message, whose deletion may follow at once).

    The DMs' languages come from what is already in memory: the workspace's (cached) and the
    receivers' locales from the people directory the give just read, so a kudos costs no
    language queries (a receiver not held there is read in the transaction)."""

    def announce(session: Session, given: GivenKudos, now: dt.datetime) -> list[tuple[str, str]]:
        known = services.users.cached(team_id, given.receiver_ids)
        return queue_kudos(
            session,
            team_id=team_id,
            given=given,
            response_url=response_url,
            now=now,
            thread_ts=thread_ts,
            not_before=held_until() if held_until else None,
            language=services.settings.missionbot_language,
            channel_language=services.languages.in_session(session, team_id),
            locales={user_id: person.locale for user_id, person in known.items()},
        )

    return announce


@KUDOS.subcommand("undo", help=N_("`/kudos undo` withdraws your last kudos (within 10 minutes)"))
def undo_last(ack: Ack, request: CommandRequest, services: Services) -> None:
    giver = request.caller()
    now = services.clock()
    with services.db.transaction() as session:
        withdrawn = undo(
            session=session,
            team_id=request.team_id,
            giver_id=request.user_id,
            giver_timezone=giver.timezone,
            now=now,
        )
        unedited = queue_withdrawal(session, team_id=request.team_id, withdrawn=withdrawn, now=now)
        if withdrawn.source == Source.REACTION and withdrawn.channel_id and withdrawn.message_ts:
            # A principle reaction's kudos is shown in its message's thread reply: redraw it.
            queue_thread_update(
                session,
                team_id=request.team_id,
                channel_id=withdrawn.channel_id,
                ts=withdrawn.message_ts,
                now=now,
            )
    services.queued()
    t = request.speech()
    failure = not_editable(unedited, t) if unedited else None
    reply = undo_confirmation(withdrawn.in_language(t.language), failure, t)
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


@KUDOS.subcommand(
    "me", help=N_("`/kudos me` shows the kudos you received and gave"), words={"de": ("ich",)}
)
def show_mine(ack: Ack, request: CommandRequest, services: Services) -> None:
    user = request.caller()
    with services.db.reading() as session:
        tally = summary(
            session=session,
            team_id=request.team_id,
            user_id=request.user_id,
            timezone=user.timezone,
            limit=services.settings.kudos_daily_limit,
            now=services.clock(),
        )
    t = request.speech()
    reply = kudos_summary(request.user_id, tally.in_language(t.language), t)
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


@KUDOS.subcommand(
    "help",
    aliases=("?",),
    help=N_("`/kudos help` shows this help"),
    words={"de": ("hilfe",), "fr": ("aide",), "es": ("ayuda",), "pt_BR": ("ajuda",)},
)
def show_help(ack: Ack, request: CommandRequest, services: Services) -> None:
    reply = KUDOS.help(services, request.speech())
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


# -- the modal -----------------------------------------------------------------------------


def handle_kudos_submission(ack: Ack, request: KudosSubmission, services: Services) -> None:
    # Cached: `give` checks again, inside its transaction, that the principle is active.
    catalog = services.mission.catalog(services.db, request.team_id)
    principle = next((p for p in catalog.principles if p.key == request.principle_key), None)
    if principle is None:
        raise KudosRefused(
            N_("Please choose one of the current principles."), field=KudosBlock.PRINCIPLE
        )
    kudos = KudosRequest(
        team_id=request.team_id,
        giver_id=request.user_id,
        named_ids=tuple(request.recipient_ids),
        principle_id=principle.id,
        message=request.message,
        channel_id=request.channel_id,
        source=request.source,
    )
    give_and_deliver(
        ack,
        KudosToGive(kudos, response_url=request.response_url, thread_ts=request.thread_ts),
        request,
        services,
    )


def open_modal(
    client: WebClient,
    services: Services,
    team_id: str,
    trigger_id: str,
    prefill: ModalPrefill,
    user_id: str | None = None,
) -> None:
    """The kudos form, in the language of `user_id` (who opened it)."""
    t = services.reader_speech(team_id, _locale_of(services, team_id, user_id) if user_id else None)
    catalog = services.mission.catalog(services.db, team_id, t.language)
    client.views_open(trigger_id=trigger_id, view=give_kudos_modal(catalog, prefill, t))


# -- the message shortcut and the button ------------------------------------------------------


def handle_give_for_message(ack: Ack, request: MessageShortcut, services: Services) -> None:
    """ "Give kudos for this": the modal with the message's author and a link to it."""
    ack()
    # Bots can't receive kudos: preselecting one only earns a refusal on submit.
    author = None if request.from_a_bot else request.author_id
    # The trigger_id lives three seconds from the click: these calls keep to that deadline.
    client = request.quick_client
    link = permalink(client, request.team_domain, request.channel_id, request.message_ts)
    # The giver's own words to start from, so in their language: they become the kudos.
    t = services.reader_speech(
        request.team_id, _locale_of(services, request.team_id, request.user_id)
    )
    words = t.gettext("For this message: {link}").format(link=link) + "\n" if link else ""
    prefill = ModalPrefill(
        recipients=(author,) if author and author != request.user_id else (),
        message=words,
        channel_id=request.channel_id,
        source=Source.SHORTCUT,
        # Announced in the message's thread, where the conversation about it is.
        thread_ts=request.thread_ts or request.message_ts,
    )
    open_modal(client, services, request.team_id, request.trigger_id, prefill, request.user_id)


def permalink(
    client: WebClient, domain: str | None, channel_id: str | None, message_ts: str | None
) -> str | None:
    """Slack's permalink for the message; built from the team domain if Slack can't say."""
    if not channel_id or not message_ts:
        return None
    try:
        return str(client.chat_getPermalink(channel=channel_id, message_ts=message_ts)["permalink"])
    except (SlackApiError, SlackTooSlow, KeyError) as error:
        log.info("chat.getPermalink failed, building the link: %s", error)
    if not domain:
        return None
    return f"https://{domain}.slack.com/archives/{channel_id}/p{message_ts.replace('.', '')}"


def handle_give_button(ack: Ack, request: GiveButton, services: Services) -> None:
    """The "Give kudos" button of the morning post or App Home; `value` may name a principle."""
    ack()
    prefill = ModalPrefill(
        principle_key=request.principle_key,
        channel_id=request.channel_id,
        source=Source.MODAL,
    )
    # The trigger_id lives three seconds from the click: views.open keeps to that deadline.
    open_modal(
        request.quick_client,
        services,
        request.team_id,
        request.trigger_id,
        prefill,
        request.user_id,
    )


# -- the type-ahead principle menu (missions of more than 100 principles) ---------------------


def handle_principle_options(
    ack: Ack, payload: dict[str, Any], context: BoltContext, services: Services
) -> None:
    """The principles matching what the giver typed: from the cached catalog, no Slack call."""
    team_id = team_of(context)
    user_id = context.user_id
    locale = _locale_of(services, team_id, user_id) if user_id else None
    language = services.reader_speech(team_id, locale).language
    catalog = services.mission.catalog(services.db, team_id, language)
    ack(options=principle_options(catalog, str(payload.get("value") or "")))
