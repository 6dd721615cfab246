"""One WSGI app on one port: /dashboard/… to the dashboard (Flask), everything else to the
Slack side (`MissionbotWsgi`: /slack/events, /healthz)."""

from __future__ import annotations

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
