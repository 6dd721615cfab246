"""Assembling and running the bot: database, mission, Bolt app, and the server in front.

`build_runtime` wires the pieces from settings (the tests use it too); `serve` runs them until
SIGTERM or Ctrl-C, then closes the server and the database cleanly.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from slack_bolt import App
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import create_server

from bot.config import Settings
from bot.daily.jobs import POSTING_THREADS, DailyScheduler
from bot.db.engine import Database
from bot.db.models import Clock, utcnow
from bot.home.refresh import JOB_ID as HOME_REFRESH_JOB_ID
from bot.home.refresh import HomeRefresh
from bot.intake import Intake
from bot.mission.file import load_mission_file
from bot.mission.service import MissionKeeper
from bot.outbox.sender import WORKERS as SENDER_WORKERS
from bot.outbox.sender import Sender
from bot.slack.app import LISTENER_THREADS, create_app, create_web_client
from bot.slack.checks import PersonChecks
from bot.slack.deadline import AckClock
from bot.slack.http import SLACK_EVENTS_PATH, MissionbotWsgi
from bot.slack.listener_pool import ListenerPool
from bot.slack.listeners.onboarding import DRIP_JOB_ID, OnboardingDripJob
from bot.slack.outbound import create_sender
from bot.slack.outbound.daily import draw_post
from bot.slack.users import DirectorySync, UserDirectory
from bot.web.groups import SlackGroups
from bot.web.mount import BuiltOnFirstRequest, Mount, WsgiApp

log = logging.getLogger(__name__)

# How long stopping waits for listeners still at work after their ack: well inside the 10 s a
# supervisor (systemd, Kubernetes' 30 s) gives a SIGTERMed process before it kills it.
LISTENERS_GRACE_S = 4.0
# How often the main thread wakes, in Socket Mode, to act on a SIGTERM.
SIGNAL_POLL_S = 0.2
# A stopped process still alive this long after "stopped" says which threads hold it.
EXIT_STALL_S = 2.0


@dataclass
class Runtime:
    settings: Settings
    database: Database
    mission: MissionKeeper
    app: App
    scheduler: DailyScheduler
    people: DirectorySync
    # Drains the outbox (kudos, morning posts, shared reports, exports); started by `serve`.
    sender: Sender | None = None
    # Looks up, after the answer, people a kudos was recorded for without Slack's word.
    checks: PersonChecks | None = None
    # Queues the onboarding DMs (MISSIONBOT_ONBOARDING_DRIP); run every minute by the scheduler.
    drip: OnboardingDripJob | None = None
    clock: Clock = utcnow
    # Requests received and not yet answered; the server in front keeps it (bot/intake.py).
    intake: Intake = field(default_factory=Intake)
    # Publishes the Homes of people active lately ahead of their morning; every minute.
    home_refresh: HomeRefresh | None = None
    # What a request's three seconds are measured on (bot/slack/deadline.py).
    ack_clock: AckClock = time.monotonic

    def wsgi(self) -> Mount:
        """Slack's endpoint and the health check, with the dashboard beside them.

        The dashboard (Flask) is built when its first request arrives: building it is ~6 ms
        of CPU (werkzeug compiling its routes), paid by every runtime the tests build though
        few of them open a page. Its pages are the same either way.
        """
        secret = self.settings.slack_signing_secret
        slack = MissionbotWsgi(
            self.app,
            self.database,
            secret.get_secret_value() if secret else None,
            ack_clock=self.ack_clock,
        )
        return Mount(slack, BuiltOnFirstRequest(self._dashboard))

    def _dashboard(self) -> WsgiApp:
        from bot.web.app import create_dashboard  # Flask is imported when served, not before

        groups = SlackGroups(create_web_client(self.settings))
        return create_dashboard(self.settings, self.database, groups=groups, clock=self.clock)

    @property
    def listeners(self) -> ListenerPool:
        """Bolt's listener pool (bot/slack/listener_pool.py)."""
        pool = self.app.listener_runner.listener_executor
        assert isinstance(pool, ListenerPool)
        return pool

    def close(self) -> None:
        # The listeners first: what they do after their ack needs the database and the
        # outbox, both closed below.
        self.listeners.finish(LISTENERS_GRACE_S)
        if self.sender is not None:
            self.sender.stop()
        if self.checks is not None:
            self.checks.stop()
        self.people.stop()
        self.scheduler.shutdown()
        self.database.dispose()


def database_connections(settings: Settings) -> int:
    """How many database connections the bot may open at once: one for each thread that can
    hold one at the same moment, so that none waits for the pool (a request thread that
    waited past the pool's timeout lost its write). README's "PostgreSQL" says the number.

    The request threads (`SERVER_THREADS`), Bolt's listeners after the ack, the outbox's
    sending workers, the scheduler's posting threads (the Home refresh runs there too) and
    its sweep, the people sync, the person checks, the dashboard's user group tallies (its
    sync lock and its transaction), and the main thread (start-up and shutdown):
    `SERVER_THREADS` + 62.
    """
    return (
        settings.server_threads
        + LISTENER_THREADS
        + SENDER_WORKERS
        + POSTING_THREADS
        + 1  # the scheduler's sweep (SWEEP_EXECUTOR)
        + 1  # the people sync
        + 1  # the person checks (bot/slack/checks.py)
        + 2  # a user group's tallies brought up to date (bot/reports/usergroup_tallies.py)
        + 1  # the main thread
    )


def build_runtime(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    migrate: bool = True,
    ack_clock: AckClock = time.monotonic,
) -> Runtime:
    document = load_mission_file(settings.mission_file)
    if document.warnings:
        log.warning("mission file: %s", " | ".join(document.warnings))
    database = Database(settings.database_url, connections=database_connections(settings))
    if migrate:
        # Imported here: Alembic (with Mako, and Pygments where installed) is a fifth of the
        # start-up imports, and the console skips it when the schema is already current.
        from bot.db.migrate import upgrade

        upgrade(database)
    mission = MissionKeeper(document, clock=clock)
    # Slack's requests in flight, counted by the server as it receives them: held
    # announcements wait for those received before their time (bot/intake.py).
    intake = Intake(clock=clock, paths={SLACK_EVENTS_PATH})
    sender = create_sender(settings, database, clock=clock, settled=intake.settled)
    # Built here, started only by `serve`: the tests drive `scheduler.run_due()` themselves.
    scheduler = DailyScheduler(settings, database, draw_post, clock=clock, notify=sender.notify)
    users = UserDirectory(database, clock=clock, scale=settings.slack_rate_scale)
    app = create_app(
        settings,
        database=database,
        mission=mission,
        clock=clock,
        scheduler=scheduler,
        users=users,
        sender=sender,
        ack_clock=ack_clock,
    )
    mission.sync_known(database)
    # Built here, started only by `serve`, like the scheduler. Its client retries no 429:
    # the fill waits out Retry-After itself, at the rate scale, and counts it.
    people = DirectorySync(
        create_web_client(settings, retries=0),
        users,
        scale=settings.slack_rate_scale,
        clock=clock,
    )
    checks = PersonChecks(
        create_web_client(settings, retries=0),
        users,
        database,
        scale=settings.slack_rate_scale,
        clock=clock,
        notify=sender.notify,
        language=settings.missionbot_language,
    )
    drip = OnboardingDripJob(
        database, clock=clock, sender=sender, language=settings.missionbot_language
    )
    # App Homes refreshed overnight, so that the 9:00 openings find today already there.
    home_refresh = HomeRefresh(
        database,
        clock=clock,
        notify=sender.notify,
        per_minute=settings.missionbot_home_refresh_per_minute,
    )
    scheduler.every(60, home_refresh.run_due, HOME_REFRESH_JOB_ID)
    if settings.missionbot_onboarding_drip:
        scheduler.every(settings.missionbot_schedule_refresh_seconds, drip.run_due, DRIP_JOB_ID)
    return Runtime(
        settings=settings,
        database=database,
        mission=mission,
        app=app,
        scheduler=scheduler,
        people=people,
        sender=sender,
        checks=checks,
        drip=drip,
        clock=clock,
        intake=intake,
        home_refresh=home_refresh,
        ack_clock=ack_clock,
    )


class _Stop(SystemExit):
    """Raised in the main thread by SIGTERM to leave the server loop.

    A SystemExit because waitress's loop lets only that and KeyboardInterrupt out of its
    callbacks: any other exception raised while it is, say, closing a connection is logged
    as that connection's error, and the server carries on as if no SIGTERM had come.
    """


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def serve(runtime: Runtime) -> None:
    settings = runtime.settings
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_stop)
    try:
        runtime.scheduler.start()
        runtime.people.start()
        if runtime.checks is not None:
            runtime.checks.start()
        if runtime.sender is not None:
            runtime.sender.start()
        if settings.socket_mode:
            _serve_socket_mode(runtime)
        else:
            _serve_http(runtime)
    except (_Stop, KeyboardInterrupt):
        pass  # waitress may have caught it already and returned: the same shutdown follows
    finally:
        log.info("shutting down")
        runtime.close()
        log.info("stopped")
        # Exiting waits for every thread that is not a daemon: if one still runs a few
        # seconds from now, its stack (and every other thread's) goes to stderr, so that a
        # process that outlives its SIGTERM says what held it.
        faulthandler.dump_traceback_later(EXIT_STALL_S)


def counted_channel(intake: Intake) -> type[HTTPChannel]:
    """waitress's channel, giving `intake` a ticket for each request as soon as it has been
    read whole — before it waits in the queue for a request thread, which is where an undoing
    waited unseen on a busy server — and giving it back once the request is answered."""

    class CountedRequest(HTTPRequestParser):
        ticket: int | None = None

        def received(self, data: bytes) -> int:
            consumed: int = super().received(data)
            if self.completed and not self.empty and self.ticket is None:
                self.ticket = intake.received(str(getattr(self, "path", "") or ""))
            return consumed

    class CountedChannel(HTTPChannel):
        parser_class = CountedRequest

        def service(self) -> None:
            waiting = list(self.requests)
            try:
                super().service()
            finally:
                # The request served, and any it dropped with its connection.
                for request in waiting:
                    if request not in self.requests:
                        intake.answered(getattr(request, "ticket", None))

    return CountedChannel


def count_requests(server: Any, intake: Intake) -> None:
    """Have waitress's `server` (from `create_server`) count its requests in `intake`."""
    channel = counted_channel(intake)
    # One listening socket gives the server itself, several a map of servers.
    for each in [server, *getattr(server, "map", {}).values()]:
        if hasattr(each, "channel_class"):
            each.channel_class = channel


class HttpServer:
    """waitress in front of the WSGI app; `stop()` may be called from another thread."""

    def __init__(self, runtime: Runtime, *, host: str, port: int) -> None:
        self._server: Any = create_server(
            runtime.wsgi(),
            host=host,
            port=port,
            threads=runtime.settings.server_threads,
            ident="missionbot",
            # How often the accept loop wakes with nothing to do, in whole seconds: waitress
            # reads it as an int, so the 0.2 s asked for became 0 and the loop spun a core
            # (the console's dashboard did, all session long). `stop()` wakes the loop through
            # its trigger, so nothing waits on this.
            asyncore_loop_timeout=1,
        )
        count_requests(self._server, runtime.intake)

    @property
    def _socket_map(self) -> dict[int, Any]:
        # One listening socket gives a TcpWSGIServer (`_map`), several a MultiSocketServer (`map`).
        socket_map: dict[int, Any] = getattr(self._server, "map", None) or self._server._map
        return socket_map

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def run(self) -> None:
        self._loop_thread = threading.current_thread()
        self._server.run()

    @property
    def loop_thread(self) -> threading.Thread | None:
        """The thread running the accept loop (`run`), once it started."""
        return getattr(self, "_loop_thread", None)

    def stop(self) -> None:
        """Close the sockets, then let requests in flight finish (waitress waits up to 5 s)."""
        loop = self.loop_thread
        if loop is not None and loop is not threading.current_thread() and loop.is_alive():
            # Sockets belong to the loop's thread: closing them elsewhere races with select().
            closed = threading.Event()

            def close_in_loop() -> None:
                wasyncore.close_all(self._socket_map)
                closed.set()

            # OSError: the loop already closed its trigger, so there is nothing left to wake.
            with contextlib.suppress(OSError):
                self._server.trigger.pull_trigger(close_in_loop)
            closed.wait(timeout=5)
        wasyncore.close_all(self._socket_map)
        self._server.task_dispatcher.shutdown()


def _serve_http(runtime: Runtime) -> None:
    settings = runtime.settings
    server = HttpServer(runtime, host=settings.host, port=settings.port)
    log.info(
        "listening on http://%s:%s (Slack endpoint /slack/events, dashboard /dashboard, "
        "health /healthz)",
        settings.host,
        server.port,
    )
    try:
        server.run()
    finally:
        server.stop()


def _serve_socket_mode(runtime: Runtime) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    token = runtime.settings.slack_app_token
    assert token is not None
    handler = SocketModeHandler(runtime.app, token.get_secret_value())
    log.info("connecting to Slack in Socket Mode")
    try:
        # Not `handler.start()`: it blocks the main thread in an untimed Event.wait(), and a
        # SIGTERM the kernel delivers to another thread (any may take it) is acted on only
        # when the main thread next wakes: seconds later, past a supervisor's patience (the
        # tests' 5 s). A timed wait wakes it at least every SIGNAL_POLL_S.
        handler.connect()
        log.info("connected to Slack in Socket Mode")
        while True:
            time.sleep(SIGNAL_POLL_S)
    finally:
        _close_socket_mode(handler)


def _close_socket_mode(handler: Any) -> None:
    """Close the WebSocket at once. slack-sdk's close waits for its receiving thread to let go
    of the socket, which it holds for up to 3 s in a recv() (its receive_timeout): shutting
    the socket down first ends that recv(), and the process stops in milliseconds, not 3 s
    (which on a loaded machine passed a supervisor's patience)."""
    session = getattr(handler.client, "current_session", None)
    sock = getattr(session, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    handler.close()
