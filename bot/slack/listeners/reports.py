"""`/kudos leaderboard|principles|export` and the App Home's export button.

Thin: parse (bot/reports/leaderboard.py, bot/reports/periods.py) → report services → render
(bot/blocks/reports.py). Periods are calendar periods in the caller's own timezone.
The subcommands are declared on the `/kudos` router (bot/slack/commands.py).

What is shown to the caller alone is the acknowledgement itself, in their language; what goes
to others — a shared leaderboard in the channel, an export into the caller's DM — goes through
the outbox (bot/slack/outbound/reports.py), sent at Slack's pace and retried, never by the
request thread. A shared leaderboard is in the workspace language, never the sharer's.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.common import Message, period_label
from bot.blocks.ids import Action
from bot.blocks.reports import (
    export_started,
    leaderboard_message,
    leaderboard_shared,
    principle_report_message,
)
from bot.blocks.weighted import weighted_message
from bot.errors import TRY_USAGE, Msgid, UserError
from bot.i18n.speech import ENGLISH, N_, Speech
from bot.kudos.service import zone
from bot.reports.export import export_rows, people, to_csv
from bot.reports.leaderboard import (
    ReportArgs,
    Role,
    find_principle,
    leaderboard,
    parse_report_args,
    principle_report,
)
from bot.reports.periods import PeriodKind
from bot.reports.scope import ReportScope, report_scope
from bot.reports.weighted import weighted_leaderboard
from bot.slack.admins import is_admin, require_admin
from bot.slack.commands import KUDOS, CommandRequest, Who
from bot.slack.deadline import after_ack_safe
from bot.slack.installation import team_of
from bot.slack.outbound.reports import queue_export, queue_shared
from bot.slack.services import Services
from bot.slack.users import UserDirectory

log = logging.getLogger(__name__)

SHARE_ADMINS_ONLY = N_(
    "Only workspace admins and the bot's managers can share a leaderboard in the channel. "
    "Without `share` it is shown to you alone."
)
EXPORT_ADMINS_ONLY = N_(
    "Only workspace admins and the bot's managers can export kudos. "
    "`/kudos leaderboard` and `/kudos principles` are open to everyone."
)
PRINCIPLES_USAGE = N_("`/kudos principles [period]`, for example `/kudos principles quarter`.")
EXPORT_USAGE = N_("`/kudos export [period]`, for example `/kudos export 2026-Q1`.")

WEIGHTED_RECEIVERS_ONLY = N_(
    "`weighted` ranks receivers by how many different people recognised them; "
    "try `/kudos leaderboard month weighted`."
)


def register(app: App) -> None:
    app.action(Action.EXPORT_KUDOS)(after_ack_safe(handle_export_button))


def _caller_scope(request: CommandRequest, period: str) -> ReportScope:
    """The period the caller asked for, as a calendar period of their own timezone."""
    return report_scope(
        team_id=request.team_id,
        period=period,
        where=zone(request.caller().timezone),
        now=request.services.clock(),
    )


def _require_admin(request: CommandRequest, refusal: str) -> None:
    require_admin(
        client=request.quick_client,
        settings=request.services.settings,
        users=request.services.users,
        team_id=request.team_id,
        user_id=request.user_id,
        refusal=refusal,
    )


@KUDOS.subcommand(
    "leaderboard",
    aliases=("top",),
    help=N_(
        "`/kudos leaderboard [period] [#principle] [givers]` shows who received (or gave) "
        "most; periods: `week`, `month`, `quarter`, `year`, `all`, a month like `2026-03` or a "
        "quarter like `2026-Q1` (default this month, in your timezone); "
        "add `weighted` to rank by recognition from different people; "
        "admins add `share` to post it here"
    ),
    words={
        "de": ("rangliste",),
        "fr": ("classement",),
        "es": ("clasificacion", "clasificación"),
        "pt_BR": ("ranking",),
        "ja": ("ランキング",),
    },
)
def show_leaderboard(ack: Ack, request: CommandRequest, services: Services) -> None:
    args = parse_report_args(request.args)
    if args.weighted and args.role == Role.GIVERS:
        raise UserError(WEIGHTED_RECEIVERS_ONLY, fields={})
    if args.share:
        _require_admin(request, SHARE_ADMINS_ONLY)
    scope = _caller_scope(request, args.period)
    if args.weighted:
        _show_weighted(ack, request, services, scope, args)
        return
    with services.db.reading() as session:
        principle = (
            find_principle(session, scope.team_id, args.principle) if args.principle else None
        )
        board = leaderboard(
            session=session,
            team_id=scope.team_id,
            period=scope.period,
            bounds=scope.bounds,
            role=args.role,
            principle=principle,
            caller_id=None if args.share else request.user_id,
        )
    reply = leaderboard_message(
        board, shared_by=request.user_id if args.share else None, t=_board_speech(request, args)
    )
    _answer_board(ack, request, services, reply, share=args.share)


def _board_speech(request: CommandRequest, args: ReportArgs) -> Speech:
    """A shared board is read by the channel: the workspace language, not the sharer's."""
    return request.channel_speech() if args.share else request.speech()


def _answer_board(
    ack: Ack, request: CommandRequest, services: Services, reply: Message, *, share: bool
) -> None:
    """Only to the caller, or — `share` — posted in the channel through the outbox, at the
    channel's pace, with a note to the caller: one way for every leaderboard."""
    if not share or not request.channel_id:
        ack(
            text=reply.text,
            blocks=reply.blocks,
            response_type="in_channel" if share else "ephemeral",
        )
        return
    with services.db.transaction() as session:
        queue_shared(
            session,
            team_id=request.team_id,
            channel_id=request.channel_id,
            message=reply,
            response_url=request.response_url,
        )
    services.queued()
    note = leaderboard_shared(request.channel_id, request.speech())
    ack(text=note.text, blocks=note.blocks, response_type="ephemeral")


def _show_weighted(
    ack: Ack, request: CommandRequest, services: Services, scope: ReportScope, args: ReportArgs
) -> None:
    """`/kudos leaderboard … weighted`: ranked by recognition from different people."""
    with services.db.reading() as session:
        principle = (
            find_principle(session, scope.team_id, args.principle) if args.principle else None
        )
        board = weighted_leaderboard(
            session=session,
            team_id=scope.team_id,
            period=scope.period,
            bounds=scope.bounds,
            principle=principle,
            caller_id=None if args.share else request.user_id,
        )
    reply = weighted_message(
        board, shared_by=request.user_id if args.share else None, t=_board_speech(request, args)
    )
    _answer_board(ack, request, services, reply, share=args.share)


@KUDOS.subcommand(
    "principles",
    help=N_("`/kudos principles [period]` shows kudos per principle and the quiet ones"),
)
def show_principles(ack: Ack, request: CommandRequest, services: Services) -> None:
    args = parse_report_args(request.args, PRINCIPLES_USAGE)
    if args.principle or args.share or args.weighted or args.role != "receivers":
        raise UserError(TRY_USAGE, fields={"usage": Msgid(PRINCIPLES_USAGE)})
    scope = _caller_scope(request, args.period)
    previous = scope.period.previous()
    with services.db.reading() as session:
        report = principle_report(
            session=session,
            team_id=scope.team_id,
            period=scope.period,
            bounds=scope.bounds,
            previous_bounds=previous.bounds(scope.where) if previous else None,
        )
    reply = principle_report_message(report, request.speech())
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


@KUDOS.subcommand(
    "export",
    help=N_("`/kudos export [period]` DMs you a CSV of the period's kudos"),
    who=Who.MANAGERS,
    refusal=EXPORT_ADMINS_ONLY,
)
def export_command(ack: Ack, request: CommandRequest, services: Services) -> None:
    args = parse_report_args(request.args, EXPORT_USAGE)
    if args.principle or args.share or args.weighted or args.role != "receivers":
        raise UserError(TRY_USAGE, fields={"usage": Msgid(EXPORT_USAGE)})
    scope = _caller_scope(request, args.period)
    t = request.speech()
    started = export_started(scope.period, t)
    # Gathering names may take longer than Slack's three seconds: acknowledge first.
    ack(text=started.text, blocks=started.blocks, response_type="ephemeral")
    queue_csv(
        client=request.client,
        services=services,
        scope=scope,
        user_id=request.user_id,
        response_url=request.response_url,
        t=t,
    )


def queue_csv(
    *,
    client: WebClient,
    services: Services,
    scope: ReportScope,
    user_id: str,
    response_url: str | None,
    t: Speech = ENGLISH,
) -> None:
    """The scope's kudos as CSV, queued for the user's DM (then a note through response_url);
    the file's title and comment in their language (`t`), its columns in stable English."""
    team_id, period = scope.team_id, scope.period
    with services.db.reading() as session:
        rows = export_rows(session=session, team_id=team_id, bounds=scope.bounds)
    names = {uid: _name(client, services.users, team_id, uid) for uid in people(rows)}
    with services.db.transaction() as session:
        queue_export(
            session,
            team_id=team_id,
            user_id=user_id,
            filename=f"kudos-{period.slug}.csv",
            title=t.gettext("Kudos, {period}").format(period=period_label(period, t)),
            content=to_csv(rows, names),
            comment=t.ngettext(
                "The kudos of {period}: {count} row.",
                "The kudos of {period}: {count} rows.",
                len(rows),
            ).format(period=period_label(period, t), count=t.number(len(rows))),
            language=t.language,
            response_url=response_url,
        )
    services.queued()
    log.info(
        "export queued team=%s user=%s period=%s rows=%d", team_id, user_id, period.slug, len(rows)
    )


def _name(client: WebClient, users: UserDirectory, team_id: str, user_id: str) -> str:
    """The person's name from the users cache; empty when Slack no longer knows them."""
    try:
        return users.get(client, team_id, user_id).name
    except SlackApiError as error:
        log.info("no name for %s in the export: %s", user_id, error.response.get("error"))
        return ""


def handle_export_button(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    services: Services,
) -> None:
    """The App Home's "Export this month" (shown to admins only, checked again here)."""
    ack()
    team_id, user_id = team_of(context), str(context.user_id)
    users = services.users
    person = users.get(client, team_id, user_id)
    t = services.reader_speech(team_id, person.locale)
    if not is_admin(
        client=client, settings=services.settings, users=users, team_id=team_id, user_id=user_id
    ):
        client.chat_postMessage(channel=user_id, text=t.gettext(EXPORT_ADMINS_ONLY))
        return
    scope = report_scope(
        team_id=team_id,
        period=PeriodKind.MONTH,
        where=zone(person.timezone),
        now=services.clock(),
    )
    queue_csv(
        client=client, services=services, scope=scope, user_id=user_id, response_url=None, t=t
    )
