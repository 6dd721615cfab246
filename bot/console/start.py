"""Starting the console: settings, the stand-in, the real runtime, and the terminal.

`run_console` builds the real runtime (`build_runtime`: migrations, mission sync, the Bolt app
with every listener, the scheduler, the outbox sender) with Slack's URL pointed at the
stand-in, the console's movable clock and a signing secret made up for the session, then
hands the terminal to a `Session`.

When standard input is a terminal the prompt shows who and where you are, with line editing;
otherwise one command is read per line and echoed after the prompt, so the output reads as a
transcript. Ctrl-D, Ctrl-C, `quit`: the runtime is closed (the database with it) and the
console leaves with status 0.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
import threading
from collections.abc import Callable
from typing import IO

from rich.console import Console
from sqlalchemy import func, select

from bot.config import Settings, load_settings
from bot.console import demo, files
from bot.console.clock import ConsoleClock
from bot.console.render import Renderer
from bot.console.schema import is_current
from bot.console.session import Session
from bot.console.slackside import SlackSide
from bot.console.standin import StandIn
from bot.console.typed import too_long
from bot.console.workspace import TEAM_ID, Workspace
from bot.db.engine import Database
from bot.db.models import Kudos
from bot.i18n import ENGLISH, Speech, speech
from bot.runtime import HttpServer, Runtime, build_runtime
from bot.text import clipped

DEFAULT_DATABASE = "missionbot-console.db"


def database_url(database: str | None) -> str:
    """`--database`: a path (SQLite) or a URL; by default missionbot-console.db here."""
    value = database or DEFAULT_DATABASE
    return value if "://" in value else f"sqlite:///{value}"


def line_reader(
    stdin: IO[str],
    console: Console,
    interactive: bool,
    t: Callable[[], Speech] = lambda: ENGLISH,
) -> Callable[[str], str | None]:
    """Reads one line per call: with line editing at a terminal, echoed after the prompt when
    not (so the output reads as a transcript). None at the end of input. `t` is the console's
    language at the moment a line is read (it changes with `/kudos settings language`)."""
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - imported for its side effect: line editing in input()

        def ask(prompt: str) -> str | None:
            console.print(prompt, end="", markup=False, highlight=False, style="bold")
            try:
                return input()
            except EOFError:
                console.print()
                return None

        return ask

    def read(prompt: str) -> str | None:
        raw = stdin.readline()
        if not raw:
            return None
        line = raw.rstrip("\r\n")
        # A line too long to send is refused (bot/console/typed.py); its echo is clipped too.
        shown = line
        if too_long(line) is not None:
            words = t()
            count = words.ngettext("({count} character)", "({count} characters)", len(line))
            shown = f"{clipped(line, 60)} {count.format(count=words.number(len(line)))}"
        console.print(f"{prompt}{shown}", markup=False, highlight=False, style="bold")
        return line

    return read


def run_console(
    *,
    database: str | None,
    demo_data: bool,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
) -> int:
    """Start the bot against the stand-in and run the session until the person leaves."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    for stream in (stdin, stdout):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            # A terminal that can't show a character gets "?" rather than a crash.
            reconfigure(errors="replace")
    interactive = stdin.isatty() and stdout.isatty()
    console = Console(file=stdout, highlight=False, emoji=False, soft_wrap=False)
    workspace = Workspace()
    standin = StandIn(workspace).start()
    clock = ConsoleClock()
    secret = secrets.token_hex(16)
    try:
        # The environment and .env still give the mission file, limits and so on; Slack's
        # side and the database are the console's own (never DATABASE_URL unless asked).
        settings = load_settings(
            slack_bot_token="xoxb-console-stand-in",
            slack_signing_secret=secret,
            slack_app_token=None,
            slack_api_url=standin.api_url,
            database_url=database_url(database),
        )
        runtime = build_runtime(settings, clock=clock, migrate=not _schema_current(settings))
    except BaseException:
        standin.stop()
        raise
    dashboard: HttpServer | None = None
    try:
        executor = runtime.listeners
        runtime.people.sync_once()
        renderer = Renderer(console, workspace)
        if demo_data:
            added = demo.fill(runtime.database, runtime.mission, workspace, clock())
            t = speech(settings.missionbot_language)
            said = (
                t.ngettext(
                    "Demo data: {count} kudos over the last three months.",
                    "Demo data: {count} kudos over the last three months.",
                    added,
                ).format(count=t.number(added))
                if added
                else t.gettext("Demo data: already there.")
            )
            renderer.line(said, style="dim")
        dashboard = _serve_dashboard(runtime)
        session = Session(
            runtime=runtime,
            standin=standin,
            slack=SlackSide(runtime.wsgi(), secret, workspace, standin),
            renderer=renderer,
            clock=clock,
            executor=executor,
            # The echo speaks the session's language, looked up when a line is read.
            read_line=line_reader(stdin, console, interactive, t=lambda: session.t),
            files=files.folder_for(settings.database_url),
        )
        _banner(session, settings, empty=not demo_data and _no_kudos(runtime))
        return session.run()
    finally:
        if dashboard is not None:
            dashboard.stop()
        runtime.close()
        standin.stop()


def _serve_dashboard(runtime: Runtime) -> HttpServer:
    """The web dashboard on a free local port, where the `dashboard` command's links point."""
    server = HttpServer(runtime, host="127.0.0.1", port=0)
    runtime.settings.missionbot_public_url = f"http://127.0.0.1:{server.port}"
    threading.Thread(target=server.run, name="dashboard", daemon=True).start()
    return server


def _banner(session: Session, settings: Settings, *, empty: bool) -> None:
    renderer = session.renderer
    t = session.t
    where = settings.database_url.removeprefix("sqlite:///")
    database = t.gettext("database {where}").format(where=where)
    renderer.line(f"missionbot console{renderer.glyph(' · ', ' - ')}{database}", style="bold")
    tips = [
        t.gettext(
            "You are @{handle} in #{channel}, with six colleagues (`who`). Type `help` for the "
            "console commands, or `/mission` as in Slack."
        ).format(handle=session.user.handle, channel=session.channel.name),
        t.gettext("The dashboard is at {url}: type `dashboard` for a sign-in link.").format(
            url=f"{settings.missionbot_public_url}/dashboard"
        ),
    ]
    if empty:
        tips.append(t.gettext("Start with --demo-data for three months of kudos."))
    renderer.line(" ".join(tips), style="dim")


def _schema_current(settings: Settings) -> bool:
    database = Database(settings.database_url)
    try:
        return is_current(database)
    finally:
        database.dispose()


def _no_kudos(runtime: Runtime) -> bool:
    with runtime.database.reading() as session:
        return not session.scalar(
            select(func.count()).select_from(Kudos).where(Kudos.team_id == TEAM_ID)
        )
