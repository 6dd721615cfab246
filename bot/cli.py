"""The `missionbot` command line: thin over the same services the Slack listeners use."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from bot.config import README_SLACK_SETUP, ConfigError, Settings, load_settings
from bot.db.engine import Database
from bot.db.models import utcnow
from bot.errors import UserError
from bot.mission.file import MissionFileError, load_mission_file, summarize
from bot.text import clipped

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.reports.scope import ReportScope

log = logging.getLogger("bot")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# The most a count option (--top, --failures) takes: beyond any workspace, within SQL's integers.
MAX_COUNT = 1_000_000
# How much of a path a one-line message shows (a 1 MB path is cut).
PATH_SHOWN = 200
# `post-today` waits this long for its posts: the outbox retries a failing post for an hour.
POST_TODAY_WAIT_S = 3700.0
# How `missionbot outbox` flags a kind of message this version has no handler for.
UNKNOWN_KIND = "UNKNOWN KIND"


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
    except DatabaseError as exc:
        raise _unreachable("DATABASE_URL", settings.database_url, exc) from None
    except (BoltError, SlackApiError) as exc:
        raise CliError(
            f"Slack did not accept SLACK_BOT_TOKEN at {settings.slack_api_url} "
            f"({_first_line(exc)}); {README_SLACK_SETUP} says how to get one."
        ) from None
    serve(runtime)
    return EXIT_OK


def cmd_console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console.start import database_url, run_console

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
    except DatabaseError as exc:
        raise _unreachable("--database", database_url(args.database), exc) from None


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db.migrate import upgrade

    database = Database(settings.database_url)
    try:
        upgrade(database, args.revision)
    except DatabaseError as exc:
        raise _unreachable("DATABASE_URL", settings.database_url, exc) from None
    finally:
        database.dispose()
    print(f"Database is at revision {args.revision}.")
    return EXIT_OK


def cmd_db_rebuild_summaries(settings: Settings, args: argparse.Namespace) -> int:
    """Count the read model again from the kudos, team by team, month by month (resumable)."""
    from rich.progress import Progress, TaskID

    from bot.reports.rebuild import rebuild_team, teams

    database = Database(settings.database_url)
    try:
        with database.reading() as session:
            team_ids = [args.team] if args.team else teams(session)
        with Progress(disable=not sys.stderr.isatty(), transient=True) as bar:
            for team_id in team_ids:
                task = bar.add_task(f"{team_id} months", total=None)

                def advance(n: int, total: int, task: TaskID = task) -> None:
                    bar.update(task, completed=n, total=total)

                done = rebuild_team(database, team_id, utcnow(), advance, args.jobs)
                resumed = " (resumed)" if done.resumed else ""
                print(f"{team_id}: rebuilt {done.months} months{resumed}", file=sys.stderr)
    except OperationalError as exc:
        raise CliError(f"DATABASE_URL: cannot connect ({_first_line(exc.orig)})") from None
    finally:
        database.dispose()
    return EXIT_OK


def cmd_mission_check(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else settings.mission_file
    try:
        document = load_mission_file(path)
    except MissionFileError as exc:
        for problem in exc.problems:
            print(problem.replace(str(path), clipped(str(path), PATH_SHOWN)), file=sys.stderr)
        return EXIT_FAILED
    for warning in document.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{path}: OK. {summarize(document)}.")
    return EXIT_OK


def cmd_post_today(settings: Settings, args: argparse.Namespace) -> int:
    from bot.daily.flows import Outcome
    from bot.daily.jobs import DailyScheduler
    from bot.slack.outbound import create_sender
    from bot.slack.outbound.daily import draw_post

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
    except DatabaseError as exc:
        raise _unreachable("DATABASE_URL", settings.database_url, exc) from None
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
    except DatabaseError as exc:
        raise _unreachable("DATABASE_URL", settings.database_url, exc) from None
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

    output = _output_path(args.output) if args.output else None
    with _reading_report(settings, args) as (scope, session):
        rows = export_rows(
            session=session,
            team_id=scope.team_id,
            bounds=scope.bounds,
            public_text_only=args.public_text_only,
        )
    names = _names(settings, scope.team_id, people(rows))
    content = to_json(rows, names) if args.format == "json" else to_csv(rows, names)
    if output:
        _write_output(output, content.encode())
        print(f"Wrote {len(rows)} kudos of {scope.period.label} to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(content)
    return EXIT_OK


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    """Promise health as CSV (one row per principle), JSON (with the pairs) or the PNG chart."""
    from bot.i18n import speech
    from bot.i18n.whose import workspace_language
    from bot.reports.chart import health_chart_png
    from bot.reports.health import promise_health
    from bot.reports.health_tables import health_csv, health_json

    output = _output_path(args.output) if args.output else None
    if args.format == "png" and not output and sys.stdout.isatty():
        raise CliError(
            "--format png: give --output FILE (a PNG is not for the terminal)", EXIT_USAGE
        )
    with _reading_report(settings, args) as (scope, session):
        health = promise_health(
            session=session,
            team_id=scope.team_id,
            period=scope.period,
            bounds=scope.bounds,
            where=scope.where,
            today=utcnow().astimezone(scope.where).date(),
        )
        # A file for whoever is handed it: in the workspace language, as a channel reads.
        language = workspace_language(
            session=session, team_id=scope.team_id, default=settings.missionbot_language
        )
    if args.format == "png":
        content = health_chart_png(health, speech(language))
    elif args.format == "json":
        people = sorted({p for pair in health.pairs for p in (pair.first, pair.second)})
        content = health_json(health, _names(settings, scope.team_id, people)).encode()
    else:
        content = health_csv(health).encode()
    if output:
        _write_output(output, content)
        print(f"Wrote promise health of {scope.period.label} to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    return EXIT_OK


def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.outbox.queue import Status, status_summary, stranded
    from bot.slack.outbound import create_sender

    database = Database(settings.database_url)
    # The kinds this version sends: what `serve` would register.
    handled = set(create_sender(settings, database).handlers)
    try:
        with database.reading() as session:
            status = status_summary(session, team_id=args.team, failures=args.failures)
            waiting = stranded(session, handled=handled, team_id=args.team)
    except DatabaseError as exc:
        raise _unreachable("DATABASE_URL", settings.database_url, exc) from None
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
        flag = f"  {UNKNOWN_KIND}" if line is not columns and line[0] not in handled else ""
        print("  ".join(cells).rstrip() + flag)
    if waiting:
        print(
            f"\n{UNKNOWN_KIND}: no handler in this version sends these, so they wait for a"
            " version that knows them (or for someone to cancel them):"
        )
    for kind in waiting:
        print(
            f"  {kind.kind}: {kind.count} waiting, the oldest #{kind.oldest_id} queued"
            f" {kind.oldest_at:%Y-%m-%d %H:%M:%SZ}"
        )
    if status.failures:
        print(f"\nLast {len(status.failures)} failed:")
    for failure in status.failures:
        when = failure.failed_at.strftime("%Y-%m-%d %H:%M:%SZ") if failure.failed_at else "?"
        about = f" {failure.subject}" if failure.subject else ""
        print(
            f"{when}  #{failure.id} {failure.kind}{about} to {failure.channel_id}"
            f" ({failure.team_id}), {failure.attempts} attempt(s): {failure.reason}"
        )
    # Something is stuck that only a person can unstick: worth a non-zero status for a monitor.
    return EXIT_FAILED if waiting else EXIT_OK


def _age(age: dt.timedelta) -> str:
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _output_path(value: str) -> Path:
    """`--output FILE`, checked before any work is done (see `_file_problem`)."""
    problem = _file_problem(Path(value), "give a file name in it")
    if problem:
        raise CliError(f"--output: {problem}", EXIT_USAGE)
    return Path(value)


def _file_problem(path: Path, for_a_folder: str) -> str | None:
    """Why a file can't be written at `path`, said plainly: a folder that isn't there, a folder
    given as the file, a place that can't be written; None when nothing is in the way."""
    shown = clipped(str(path), PATH_SHOWN)
    try:
        if path.is_dir():
            return f"{shown} is a folder; {for_a_folder}"
        folder = path.parent
        if not folder.is_dir():
            what = "is not a folder" if folder.exists() else "does not exist"
            return f"the folder {clipped(str(folder), PATH_SHOWN)} {what}"
        if path.exists():
            return None if os.access(path, os.W_OK) else f"{shown} can't be written"
        # Whether the folder takes a new file, asked of the filesystem itself (a read-only
        # mount or /proc says no even to root, whom access() always answers yes).
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name[:100]}.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:  # permission denied, a name too long, a loop of links…
        return f"{shown}: {exc.strerror or exc}"
    return None


def _write_output(path: Path, content: bytes) -> None:
    """Writes the whole of `content` to `path` or, failing, leaves what was there: a full disk
    midway must not leave half a report behind. A device or pipe (`/dev/stdout`) is written
    to directly, since it can't be replaced."""
    try:
        if path.exists() and not path.is_file():
            path.write_bytes(content)
            return
        mode = path.stat().st_mode & 0o777 if path.exists() else _new_file_mode()
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(content)
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CliError(
            f"--output: could not write {clipped(str(path), PATH_SHOWN)} ({exc.strerror or exc}); "
            "nothing was written"
        ) from None


def _new_file_mode() -> int:
    """What `open()` would give a new file: 0o666 less the umask (read by setting it back)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _unreachable(option: str, url: str, exc: DatabaseError) -> CliError:
    """A database that can't be used, in one line: for a SQLite file, what is wrong with its
    path (a usage error); a file that is no database, or one without tables; otherwise the
    driver's first line."""
    problem = _sqlite_path_problem(url)
    if problem:
        return CliError(f"{option}: {problem}", EXIT_USAGE)
    reason = _first_line(exc.orig)
    if "no such table" in reason or ("does not exist" in reason and "relation" in reason):
        return CliError(f"{option}: the database has no tables yet; run `missionbot db upgrade`")
    if not isinstance(exc, OperationalError):
        return CliError(f"{option}: not a database missionbot can use ({reason})", EXIT_USAGE)
    verb = "cannot open it" if option == "--database" else "cannot connect"
    return CliError(f"{option}: {verb} ({reason})")


def _sqlite_path_problem(url: str) -> str | None:
    """What is wrong with a SQLite URL's file path, said plainly; None if nothing is seen."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return _file_problem(Path(parsed.database), "give a database file's name in it")


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _positive(value: str) -> int:
    """A count option: a whole number from 1 to MAX_COUNT (digits of any script, as in Slack)."""
    from bot.text import numeric

    digits = numeric(value.strip())
    readable = digits.isascii() and digits.isdigit() and len(digits) <= len(str(MAX_COUNT))
    if not readable or not 1 <= int(digits) <= MAX_COUNT:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 1 to {MAX_COUNT:,}, not {clipped(value, 30)!r}"
        )
    return int(digits)


class Parser(argparse.ArgumentParser):
    """argparse, with what it echoes of a bad argument cut to one readable line."""

    def error(self, message: str) -> NoReturn:
        super().error(clipped(message, 300))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    rebuild = db_commands.add_parser(
        "rebuild-summaries", help="count the reports' summaries again from the kudos (resumable)"
    )
    rebuild.add_argument("--team", help="only this Slack team ID (default: every team)")
    rebuild.add_argument(
        "--jobs",
        type=_positive,
        choices=(1, 2, 3),
        default=1,
        help="PostgreSQL: how many months of a quarter to write at once (default 1)",
    )
    rebuild.set_defaults(handler=cmd_db_rebuild_summaries)

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
        "outbox",
        help="what the bot has queued, sent and failed to send into Slack (exits 1 when"
        " messages wait that this version has no handler for)",
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
        print(f"missionbot: {clipped(str(exc), 400)}", file=sys.stderr)
        return exc.status
    except BrokenPipeError:
        # The reader left early (`missionbot export | head`): nothing to say, and Python must
        # not print a traceback when it flushes stdout at exit (as the docs of `signal` advise).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
