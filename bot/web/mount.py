"""One WSGI app on one port: /dashboard/… to the dashboard (Flask), everything else to the
Slack side (`MissionbotWsgi`: /slack/events, /healthz)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PREFIX = "/dashboard"


class Mount:
    def __init__(self, slack: WsgiApp, dashboard: WsgiApp) -> None:
        self.slack = slack
        self.dashboard = dashboard

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = str(environ.get("PATH_INFO") or "")
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return self.dashboard(environ, start_response)
        return self.slack(environ, start_response)


class BuiltOnFirstRequest:
    """A WSGI app built by `build` when its first request arrives, then kept.

    The dashboard's Flask app costs ~6 ms of CPU to build (werkzeug compiling its routes),
    which every runtime paid, the tests' ~1,300 included, though few of them open a page.
    Built once, under a lock: requests arriving together on the server's threads wait for
    the one build, and all are then answered by the same app.
    """

    def __init__(self, build: Callable[[], WsgiApp]) -> None:
        self._build = build
        self._app: WsgiApp | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._app is not None

    @property
    def app(self) -> WsgiApp:
        app = self._app
        if app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._build()
                app = self._app
        return app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)
