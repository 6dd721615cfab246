"""The one WSGI app in front: the dashboard's Flask app built on its first request, once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.test import Client

from bot.web.mount import BuiltOnFirstRequest, Mount, WsgiApp
from tests.conftest import Bot


def _answering(text: bytes) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [text]

    return app


def test_the_dashboard_is_built_once_on_its_first_request_even_when_requests_arrive_together() -> (
    None
):
    builds: list[int] = []
    started = threading.Barrier(8)

    def build() -> WsgiApp:
        builds.append(1)
        time.sleep(0.05)  # long enough for the other requests to arrive meanwhile
        return _answering(b"dashboard")

    lazy = BuiltOnFirstRequest(build)
    mount = Mount(_answering(b"slack"), lazy)
    assert Client(mount).get("/healthz").data == b"slack"
    assert Client(mount).get("/dashboardx").data == b"slack"
    assert builds == []
    assert not lazy.built

    answers: list[bytes] = []

    def ask() -> None:
        started.wait()
        answers.append(Client(mount).get("/dashboard/").data)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert answers == [b"dashboard"] * 8
    assert builds == [1]
    assert lazy.built
    assert Client(mount).get("/dashboard").data == b"dashboard"
    assert builds == [1]


def test_the_runtime_builds_its_dashboard_when_a_page_is_first_asked_for(bot: Bot) -> None:
    mount = bot.runtime.wsgi()
    assert isinstance(mount.dashboard, BuiltOnFirstRequest)
    assert Client(mount).get("/healthz").status_code == 200
    assert not mount.dashboard.built
    page = Client(mount).get("/dashboard/")
    assert mount.dashboard.built
    assert page.status_code in (200, 302)
    assert page.headers["X-Content-Type-Options"] == "nosniff"
