"""The bot's WSGI app called in-process, as waitress calls it, with no socket in between.

Everything from the WSGI environ on is the production path: `MissionbotWsgi` reads the raw
body, checks Slack's signature and the body's shape, builds a `FormSafeBoltRequest` and hands
it to `App.dispatch`; `/healthz` asks the database. Only waitress is left out (it is tested on
a real socket by the tests marked `served`, and by the process tests), and with it the port,
the connection and the HTTP parsing that cost each test a server start and stop.

Requests run on a pool of `server_threads` threads, as waitress runs them, so the tests that
send requests at once still meet the same number of request threads; a request that takes
longer than the client's timeout raises `TimeoutError`, as the HTTP client would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.console.slackside import wsgi_environ
from bot.intake import Intake
from tests.support.slack_client import HttpReply

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Headers that WSGI puts in the environ under their own names, not as HTTP_*.
# One request's WSGI environ, as the console builds it for its own requests.
environ_for = wsgi_environ


def call_wsgi(app: WsgiApp, environ: dict[str, Any]) -> HttpReply:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started[:] = [status, headers]

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started
    return HttpReply(int(status.split(" ", 1)[0]), body, dict(headers))


class InProcessServer:
    """Serves a WSGI app to in-process callers on `threads` request threads.

    Each request is counted in `intake` when it is handed over, before it waits for a thread,
    and until it is answered, as waitress's channel counts it (bot/runtime.py)."""

    def __init__(self, app: WsgiApp, *, threads: int, intake: Intake | None = None) -> None:
        self.app = app
        self.intake = intake or Intake()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="in-process-http")

    def request(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str], timeout: float
    ) -> HttpReply:
        environ = environ_for(method, path, data or b"", headers)
        ticket = self.intake.received(path)
        answer = self._pool.submit(call_wsgi, self.app, environ)
        answer.add_done_callback(lambda _: self.intake.answered(ticket))
        return answer.result(timeout=timeout)

    def stop(self) -> None:
        """Let requests in flight finish, as the served bot's shutdown does."""
        self._pool.shutdown(wait=True)
