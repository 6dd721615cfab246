"""The `missionbot` command line: thin over the same services the Slack listeners use."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import OperationalError

from bot.config import README_SLACK_SETUP, ConfigError, Settings, load_settings
from bot.db.engine import Database
from bot.db.models import utcnow
from bot.errors import UserError
from bot.mission.file import MissionFileError, load_mission_file, summarize

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.reports.scope import ReportScope

log = logging.getLogger("bot")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# `post-today` waits this long for its posts: the outbox retries a failing post for an hour.
POST_TODAY_WAIT_S = 3700.0


class CliError(Exception):
    """Ends the command with one line on stderr and the given exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    if level != "DEBUG":
        # Their INFO lines repeat what our access log says, once per request.
        for noisy in (
            "slack_bolt",
            "slack_sdk",
            "bot.slack.bolt",
            "apscheduler",
            "alembic.runtime.plugins",
        ):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.runtime import build_runtime, serve

    missing = settings.missing_slack_credentials()
    if missing:
        raise CliError(
            f"Set {' and '.join(missing)} (or SLACK_APP_TOKEN for Socket Mode) in the "
            f"environment or .env; {README_SLACK_SETUP} says where to find them.",
            EXIT_USAGE,
        )
    try:
        runtime = build_runtime(settings)
    except MissionFileError as exc:
        raise CliError(f"MISSION_FILE: {exc.problems[0]}") from None
    except OperationalError as exc:
        raise CliError(f"DATABASE_URL: cannot connect ({_first_line(exc.orig)})") from None
    except (BoltError, SlackApiError) as exc:
        raise CliError(
            f"Slack did not accept SLACK_BOT_TOKEN at {settings.slack_api_url} "
            f"({_first_line(exc)}); {README_SLACK_SETUP} says how to get one."
        ) from None
    serve(runtime)
    return EXIT_OK


def cmd_console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console.start import run_console

    if settings.log_level not in {"DEBUG"}:
        # The screen is the console's: only warnings and errors go to stderr beside it.
        for handler in logging.root.handlers:
            handler.setLevel(logging.WARNING)
    try:
        return run_console(database=args.database, demo_data=args.demo_data)
    except ConfigError as exc:
        message = str(exc)
        if message.startswith("DATABASE_URL: "):  # the console's URL comes from --database
            message = "--database: " + message.removeprefix("DATABASE_URL: ")
        raise CliError(message, EXIT_USAGE) from None
    except MissionFileError as exc:
        raise CliError(f"MISSION_FILE: {exc.problems[0]}") from None
    except OperationalError as exc:
        raise CliError(f"--database: cannot open it ({_first_line(exc.orig)})") from None


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db.migrate import upgrade

    database = Database(settings.database_url)
    try:
        upgrade(database, args.revision)
    except OperationalError as exc:
        raise CliError(f"DATABASE_URL: cannot connect ({_first_line(exc.orig)})") from None
    finally:
        database.dispose()
    print(f"Database is at revision {args.revision}.")
    return EXIT_OK


def cmd_mission_check(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else settings.mission_file
    try:
        document = load_mission_file(path)
    except MissionFileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_FAILED
    for warning in document.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{path}: OK. {summarize(document)}.")
    return EXIT_OK


def cmd_post_today(settings: Settings, args: argparse.Namespace) -> int:
    from bot.daily.flows import Outcome
    from bot.daily.jobs import DailyScheduler
    from bot.slack.delivery import create_sender, draw_post

    if not settings.slack_bot_token:
        raise CliError(
            f"Set SLACK_BOT_TOKEN to post; {README_SLACK_SETUP} says where to find it.", EXIT_USAGE
        )
    database = Database(settings.database_url)
    # The posts go through the outbox like `serve`'s; this process sends them too, and waits
    # until they are sent (or failed), whoever sends them: a running `serve` may get there first.
    sender = create_sender(settings, database)
    scheduler = DailyScheduler(settings, database, draw_post, notify=sender.notify)
    try:
        sender.start()
        queued = scheduler.post_today(channels=args.channel or (), force=args.force)
        results = scheduler.settle(queued, timeout=POST_TODAY_WAIT_S)
    except LookupError as exc:
        raise CliError(f"not subscribed to the principle of the day: {exc}") from None
    except OperationalError as exc:
        raise CliError(f"DATABASE_URL: cannot connect ({_first_line(exc.orig)})") from None
    finally:
        sender.stop()
        database.dispose()
    if not results:
        print("No subscribed channels: nothing to post.")
    for result in results:
        detail = f" ({result.detail})" if result.detail else ""
        print(f"{result.channel_id} {result.local_date}: {result.outcome}{detail}")
    failed = [r for r in results if r.outcome in {Outcome.FAILED, Outcome.PAUSED, Outcome.QUEUED}]
    return EXIT_FAILED if failed else EXIT_OK


@contextmanager
def _reading_report(
    settings: Settings, args: argparse.Namespace
) -> Iterator[tuple[ReportScope, Session]]:
    """The report's scope and a read-only session on DATABASE_URL; a database that can't be
    reached is one line for the operator, not a traceback."""
    database = Database(settings.database_url)
    try:
        scope = _report_scope(settings, args, database)
        with database.reading() as session:
            yield scope, session
    except OperationalError as exc:
        raise CliError(f"DATABASE_URL: cannot connect ({_first_line(exc.orig)})") from None
    finally:
        database.dispose()


def _report_scope(settings: Settings, args: argparse.Namespace, database: Database) -> ReportScope:
    """The team, timezone and period a report command asked for (or the usage error)."""
    from bot.reports.scope import NoSingleTeam, UnknownTimezone, only_team, report_scope, timezone

    try:
        where = timezone(args.timezone)
    except UnknownTimezone as exc:
        raise CliError(f"--timezone: {exc}", EXIT_USAGE) from None
    try:
        # The team is settled after the period so that a bad period is named first.
        scope = report_scope(team_id=args.team or "", period=args.period, where=where, now=utcnow())
    except UserError as exc:
        raise CliError(f"--period: {exc.message.replace('`', '')}", EXIT_USAGE) from None
    if args.team:
        return scope
    with database.reading() as session:
        try:
            team_id = only_team(session)
        except NoSingleTeam as exc:
            raise CliError(
                f"--team: choose the workspace (teams in the database: {exc})", EXIT_USAGE
            ) from None
    return replace(scope, team_id=team_id)


def _names(settings: Settings, team_id: str, user_ids: Sequence[str]) -> dict[str, str]:
    """People's names from Slack when a bot token is set; none (IDs only) otherwise."""
    if not settings.slack_bot_token or not user_ids:
        return {}
    from bot.slack.users import UserDirectory
    from bot.slack.web import create_web_client

    client, users = create_web_client(settings), UserDirectory()
    names: dict[str, str] = {}
    for user_id in user_ids:
        try:
            names[user_id] = users.get(client, team_id, user_id).name
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("no name for %s: %s", user_id, _first_line(exc))
    return names


def cmd_leaderboard(settings: Settings, args: argparse.Namespace) -> int:
    from bot.reports.leaderboard import Role, find_principle, leaderboard
    from bot.reports.tables import (
        leaderboard_csv,
        leaderboard_json,
        leaderboard_records,
        leaderboard_text,
    )

    with _reading_report(settings, args) as (scope, session):
        try:
            principle = (
                find_principle(session, scope.team_id, args.principle) if args.principle else None
            )
        except UserError as exc:
            raise CliError(f"--principle: {exc.message.replace('`', '')}", EXIT_USAGE) from None
        board = leaderboard(
            session=session,
            team_id=scope.team_id,
            period=scope.period,
            bounds=scope.bounds,
            role=Role.GIVERS if args.givers else Role.RECEIVERS,
            principle=principle,
            top=args.top,
            split_top=args.top,
        )
    names = _names(settings, scope.team_id, [s.user_id for s in board.entries])
    records = leaderboard_records(board, names)
    if args.format == "json":
        print(leaderboard_json(board, records))
    elif args.format == "csv":
        sys.stdout.write(leaderboard_csv(records))
    else:
        print(leaderboard_text(board, scope.where, records))
    return EXIT_OK


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.reports.export import export_rows, people, to_csv, to_json

    with _reading_report(settings, args) as (scope, session):
        rows = export_rows(
            session=session,
            team_id=scope.team_id,
            bounds=scope.bounds,
            public_text_only=args.public_text_only,
        )
    names = _names(settings, scope.team_id, people(rows))
    content = to_json(rows, names) if args.format == "json" else to_csv(rows, names)
    if args.output:
        Path(args.output).write_text(content, encoding="utf-8", newline="")
        print(f"Wrote {len(rows)} kudos of {scope.period.label} to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(content)
    return EXIT_OK


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    """Promise health as CSV (one row per principle), JSON (with the pairs) or the PNG chart."""
    from bot.reports.chart import health_chart_png
    from bot.reports.health import promise_health
    from bot.reports.health_tables import health_csv, health_json

    with _reading_report(settings, args) as (scope, session):
        health = promise_health(
            session=session,
            team_id=scope.team_id,
            period=scope.period,
            bounds=scope.bounds,
            where=scope.where,
            today=utcnow().astimezone(scope.where).date(),
        )
    if args.format == "png":
        content = health_chart_png(health)
    elif args.format == "json":
        people = sorted({p for pair in health.pairs for p in (pair.first, pair.second)})
        content = health_json(health, _names(settings, scope.team_id, people)).encode()
    else:
        content = health_csv(health).encode()
    if args.output:
        Path(args.output).write_bytes(content)
        print(f"Wrote promise health of {scope.period.label} to {args.output}.", file=sys.stderr)
    elif args.format == "png" and sys.stdout.isatty():
        raise CliError(
            "--format png: give --output FILE (a PNG is not for the terminal)", EXIT_USAGE
        )
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    return EXIT_OK


def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.outbox.queue import Status, status_summary

    database = Database(settings.database_url)
    try:
        with database.reading() as session:
            status = status_summary(session, team_id=args.team, failures=args.failures)
    except OperationalError as exc:
        raise CliError(f"DATABASE_URL: cannot connect ({_first_line(exc.orig)})") from None
    finally:
        database.dispose()
    if status.empty:
        print("The outbox is empty: nothing queued, nothing sent yet.")
        return EXIT_OK
    columns = ["kind", *(str(s) for s in Status), "oldest pending"]
    now = utcnow()
    rows = [
        [
            kind,
            *(str(counts.get(s, 0)) for s in Status),
            _age(now - status.oldest_pending[kind]) if kind in status.oldest_pending else "-",
        ]
        for kind, counts in sorted(status.counts.items())
    ]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    for line in (columns, *rows):
        values = zip(line[1:], widths[1:], strict=True)
        cells = [line[0].ljust(widths[0]), *(v.rjust(w) for v, w in values)]
        print("  ".join(cells).rstrip())
    if status.failures:
        print(f"\nLast {len(status.failures)} failed:")
    for failure in status.failures:
        when = failure.failed_at.strftime("%Y-%m-%d %H:%M:%SZ") if failure.failed_at else "?"
        about = f" {failure.subject}" if failure.subject else ""
        print(
            f"{when}  #{failure.id} {failure.kind}{about} to {failure.channel_id}"
            f" ({failure.team_id}), {failure.attempts} attempt(s): {failure.reason}"
        )
    return EXIT_OK


def _age(age: dt.timedelta) -> str:
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="missionbot", description="Keep your mission and principles alive in Slack."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database and run the bot")
    serve.set_defaults(handler=cmd_serve)

    console = commands.add_parser(
        "console", help="try the bot in a terminal, with a demo workspace instead of Slack"
    )
    console.add_argument(
        "--database",
        metavar="PATH_OR_URL",
        help="a SQLite file or a database URL (default: missionbot-console.db here)",
    )
    console.add_argument(
        "--demo-data", action="store_true", help="fill in three months of kudos first"
    )
    console.set_defaults(handler=cmd_console)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_upgrade = db_commands.add_parser("upgrade", help="apply the migrations")
    db_upgrade.add_argument("revision", nargs="?", default="head")
    db_upgrade.set_defaults(handler=cmd_db_upgrade)

    post_today = commands.add_parser(
        "post-today", help="post today's principle in the subscribed channels now"
    )
    post_today.add_argument(
        "--channel",
        action="append",
        metavar="CHANNEL",
        help="only this channel ID (repeatable); default every subscribed channel",
    )
    post_today.add_argument(
        "--force", action="store_true", help="post even where today's post already went out"
    )
    post_today.set_defaults(handler=cmd_post_today)

    for name, help_text in (
        ("leaderboard", "the top receivers (or givers) of kudos in a period"),
        ("export", "every kudos of a period as CSV or JSON"),
    ):
        report = commands.add_parser(name, help=help_text)
        report.add_argument(
            "--period",
            default="month",
            help="week, month, quarter, year, all, YYYY-MM or YYYY-Qn (default: month)",
        )
        report.add_argument(
            "--timezone", default="UTC", help="whose calendar the period is in (default: UTC)"
        )
        report.add_argument(
            "--team", help="the Slack team ID (default: the only team in the database)"
        )
        if name == "leaderboard":
            report.add_argument("--principle", metavar="KEY", help="only kudos for this principle")
            report.add_argument("--givers", action="store_true", help="rank givers, not receivers")
            report.add_argument(
                "--top", type=_positive, default=10, help="how many ranks (default 10)"
            )
            report.add_argument("--format", choices=("table", "csv", "json"), default="table")
            report.set_defaults(handler=cmd_leaderboard)
        else:
            report.add_argument("--format", choices=("csv", "json"), default="csv")
            report.add_argument("--output", metavar="FILE", help="write here, not to stdout")
            report.add_argument(
                "--public-text-only",
                action="store_true",
                help="leave out the words of kudos not given in a public channel",
            )
            report.set_defaults(handler=cmd_export)

    health = commands.add_parser(
        "health", help="promise health: kudos per principle, 12-week trend, quiet, pairs, chart"
    )
    health.add_argument(
        "--period",
        default="month",
        help="week, month, quarter, year, all, YYYY-MM or YYYY-Qn (default: month)",
    )
    health.add_argument(
        "--timezone", default="UTC", help="whose calendar the period is in (default: UTC)"
    )
    health.add_argument("--team", help="the Slack team ID (default: the only team in the database)")
    health.add_argument("--format", choices=("csv", "json", "png"), default="csv")
    health.add_argument("--output", metavar="FILE", help="write here, not to stdout")
    health.set_defaults(handler=cmd_health)

    outbox = commands.add_parser(
        "outbox", help="what the bot has queued, sent and failed to send into Slack"
    )
    outbox.add_argument("--team", help="only this Slack team ID (default: every team)")
    outbox.add_argument(
        "--failures", type=_positive, default=10, help="how many recent failures (default 10)"
    )
    outbox.set_defaults(handler=cmd_outbox)

    mission = commands.add_parser("mission", help="the mission file")
    mission_commands = mission.add_subparsers(dest="mission_command", required=True)
    check = mission_commands.add_parser("check", help="validate a mission file")
    check.add_argument("file", nargs="?", help="the file to check (default: MISSION_FILE)")
    check.set_defaults(handler=cmd_mission_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"missionbot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level)
    try:
        return int(args.handler(settings, args))
    except CliError as exc:
        print(f"missionbot: {exc}", file=sys.stderr)
        return exc.status
