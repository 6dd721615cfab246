"""The `missionbot` command line: thin over the same services the Slack listeners use."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import OperationalError

from bot.config import README_SLACK_SETUP, ConfigError, Settings, load_settings
from bot.db.engine import Database
from bot.missionfile import MissionFileError, load_mission_file, summarize

log = logging.getLogger("bot")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
    print(f"{path}: OK. {summarize(document)}.")
    return EXIT_OK


def cmd_post_today(settings: Settings, args: argparse.Namespace) -> int:
    from bot.scheduler import DailyScheduler
    from bot.slack.poster import Outcome

    if not settings.slack_bot_token:
        raise CliError(
            f"Set SLACK_BOT_TOKEN to post; {README_SLACK_SETUP} says where to find it.", EXIT_USAGE
        )
    database = Database(settings.database_url)
    scheduler = DailyScheduler(settings, database)
    try:
        results = scheduler.post_today(channels=args.channel or (), force=args.force)
    except LookupError as exc:
        raise CliError(f"not subscribed to the principle of the day: {exc}") from None
    except OperationalError as exc:
        raise CliError(f"DATABASE_URL: cannot connect ({_first_line(exc.orig)})") from None
    finally:
        database.dispose()
    if not results:
        print("No subscribed channels: nothing to post.")
    for result in results:
        detail = f" ({result.detail})" if result.detail else ""
        print(f"{result.channel_id} {result.local_date}: {result.outcome}{detail}")
    failed = [r for r in results if r.outcome in {Outcome.FAILED, Outcome.PAUSED}]
    return EXIT_FAILED if failed else EXIT_OK


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="missionbot", description="Keep your mission and principles alive in Slack."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database and run the bot")
    serve.set_defaults(handler=cmd_serve)

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
