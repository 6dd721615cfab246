"""`/kudos health [period]` (managers) and the promise-health part of the managers' App Home.

Thin: parse → bot/reports/health.py → render (bot/blocks/health.py). The command is
acknowledged at once (a quarter of a busy workspace takes a second or more to count, past
Slack's three seconds for all time); the report follows through the command's response_url,
and the chart (bot/reports/chart.py) is drawn and uploaded into the manager's DM, as the
export is. On the App Home
it is shown with an image block pointing at that uploaded file (`slack_file`), uploaded at
most once a week per manager (`health_charts`) so that opening the tab doesn't post an image
each time: the request that claims the week's row (one `INSERT … ON CONFLICT DO NOTHING`)
uploads, the others opened at the same moment show the tab without it. A workspace with no
kudos in the 12 weeks gets no chart in Slack, only a sentence.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlalchemy import delete, select, update

from bot.blocks.health import chart_comment, health_message, health_started, health_title
from bot.db.dialect import dialect_insert
from bot.db.engine import Database
from bot.db.models import HealthChart
from bot.errors import TRY_USAGE, Msgid, UserError
from bot.i18n.speech import ENGLISH, N_, Speech
from bot.kudos.service import zone
from bot.reports.chart import chart_data, chart_png, png_speech
from bot.reports.health import Health, promise_health
from bot.reports.leaderboard import Role, parse_report_args
from bot.reports.periods import PeriodKind, period_of
from bot.reports.scope import ReportScope, report_scope
from bot.slack.api_errors import SLACK_FAILURES
from bot.slack.commands import KUDOS, CommandRequest, Who
from bot.slack.confirm import confirm
from bot.slack.services import Services

log = logging.getLogger(__name__)

# `health_charts.file_id` while the week's upload is under way; a claim older than
# CLAIM_STALE was left by a request that died mid-upload, and may be taken over.
UPLOADING = ""
CLAIM_STALE = dt.timedelta(minutes=5)

HEALTH_USAGE = N_("`/kudos health [period]`, for example `/kudos health quarter`.")
HEALTH_ADMINS_ONLY = N_(
    "Only workspace admins and the bot's managers can see promise health. "
    "`/kudos principles` shows kudos per principle to everyone."
)


def health_for(db: Database, scope: ReportScope, now: dt.datetime) -> Health:
    with db.reading() as session:
        return promise_health(
            session=session,
            team_id=scope.team_id,
            period=scope.period,
            bounds=scope.bounds,
            where=scope.where,
            today=now.astimezone(scope.where).date(),
        )


@KUDOS.subcommand(
    "health",
    help=N_(
        "`/kudos health [period]` shows promise health: kudos per principle, the 12-week "
        "trend, quiet principles and reciprocal pairs, and DMs you the chart (default: this month)"
    ),
    who=Who.MANAGERS,
    refusal=HEALTH_ADMINS_ONLY,
)
def show_health(ack: Ack, request: CommandRequest, services: Services) -> None:
    args = parse_report_args(request.args, HEALTH_USAGE)
    if args.principle or args.share or args.weighted or args.role != Role.RECEIVERS:
        raise UserError(TRY_USAGE, fields={"usage": Msgid(HEALTH_USAGE)})
    now = services.clock()
    scope = report_scope(
        team_id=request.team_id,
        period=args.period,
        where=zone(request.caller().timezone),
        now=now,
    )
    t = request.speech()
    started = health_started(scope.period, t)
    ack(text=started.text, blocks=started.blocks, response_type="ephemeral")
    health = health_for(services.db, scope, now)
    data = chart_data(health)
    confirm(
        client=request.client,
        user_id=request.user_id,
        channel_id=request.channel_id,
        response_url=request.response_url,
        message=health_message(health, chart_coming=not data.empty, t=t),
    )
    if not data.empty:
        upload_chart(
            client=request.client,
            health=health,
            user_id=request.user_id,
            t=t,
            workspace=request.channel_speech,
        )


def upload_chart(
    *,
    client: WebClient,
    health: Health,
    user_id: str,
    t: Speech = ENGLISH,
    workspace: Callable[[], Speech] = lambda: ENGLISH,
) -> str:
    """The health chart drawn and uploaded into a DM with the user; the file's ID. The image
    in `t`, or the `workspace` language where its font can't draw `t` (`png_speech`); the
    title and comment, which Slack draws, in `t`."""
    png = chart_png(chart_data(health, t=png_speech(t, workspace)))
    channel_id = str(client.conversations_open(users=user_id)["channel"]["id"])
    response = client.files_upload_v2(
        channel=channel_id,
        content=png,
        filename=f"promise-health-{health.period.slug}.png",
        title=health_title(health, t),
        initial_comment=chart_comment(health, t),
    )
    file_id = str(response["files"][0]["id"])
    log.info("health chart sent user=%s period=%s file=%s", user_id, health.period.slug, file_id)
    return file_id


def cached_chart(*, db: Database, team_id: str, user_id: str, week: dt.date) -> str | None:
    with db.reading() as session:
        return session.scalar(
            select(HealthChart.file_id).where(
                HealthChart.team_id == team_id,
                HealthChart.user_id == user_id,
                HealthChart.week_start == week,
                HealthChart.file_id != UPLOADING,
            )
        )


def _claim_upload(
    *, db: Database, team_id: str, user_id: str, week: dt.date, now: dt.datetime
) -> bool:
    """True for the one request that is to upload this week's chart."""
    with db.transaction() as session:
        insert = dialect_insert(session)
        claimed = session.scalar(
            insert(HealthChart)
            .values(
                team_id=team_id, user_id=user_id, week_start=week, file_id=UPLOADING, created_at=now
            )
            .on_conflict_do_nothing()
            .returning(HealthChart.user_id)
        )
        if claimed is not None:
            return True
        taken_over = session.execute(
            update(HealthChart)
            .where(
                HealthChart.team_id == team_id,
                HealthChart.user_id == user_id,
                HealthChart.week_start == week,
                HealthChart.file_id == UPLOADING,
                HealthChart.created_at < now - CLAIM_STALE,
            )
            .values(created_at=now)
        )
        return bool(getattr(taken_over, "rowcount", 0))


def _settle_claim(
    *, db: Database, team_id: str, user_id: str, week: dt.date, file_id: str | None
) -> None:
    """Record the uploaded file, or give the claim up so that the next opening tries again."""
    where = (
        HealthChart.team_id == team_id,
        HealthChart.user_id == user_id,
        HealthChart.week_start == week,
        HealthChart.file_id == UPLOADING,
    )
    with db.transaction() as session:
        if file_id is None:
            session.execute(delete(HealthChart).where(*where))
        else:
            session.execute(update(HealthChart).where(*where).values(file_id=file_id))


def chart_for_home(
    *,
    client: WebClient,
    db: Database,
    health: Health,
    team_id: str,
    user_id: str,
    today: dt.date,
    now: dt.datetime,
) -> str | None:
    """This week's chart for the manager's App Home: uploaded once a week, then reused.
    None when there is nothing to chart, Slack wouldn't take the upload, or another opening
    of the tab is uploading it right now."""
    if chart_data(health).empty:
        return None
    week = period_of(PeriodKind.WEEK, today).start
    assert week is not None
    found = cached_chart(db=db, team_id=team_id, user_id=user_id, week=week)
    if found:
        return found
    if not _claim_upload(db=db, team_id=team_id, user_id=user_id, week=week, now=now):
        log.info("home chart for user=%s this week is being uploaded by another request", user_id)
        return None
    file_id = None
    try:
        file_id = upload_chart(client=client, health=health, user_id=user_id)
    except SLACK_FAILURES as error:
        log.warning("home chart not uploaded for user=%s: %s", user_id, error)
    finally:
        _settle_claim(db=db, team_id=team_id, user_id=user_id, week=week, file_id=file_id)
    return file_id
