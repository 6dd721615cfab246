"""The dashboard's Flask app: settings, session cookie, security headers, error pages."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from bot.config import Settings
from bot.db.engine import Database
from bot.db.models import Clock, utcnow
from bot.errors import UserError
from bot.i18n.speech import N_
from bot.reports.usergroup_tallies import GroupTallies
from bot.web import language
from bot.web.groups import GroupSource
from bot.web.signin import SESSION_LIFETIME

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
COOKIE = "missionbot_dashboard"


@dataclass(frozen=True)
class Dashboard:
    """What the views need, kept on the app (`services()`)."""

    settings: Settings
    database: Database
    clock: Clock
    groups: GroupSource
    # Brings a filtered-by user group's tallies up to date (bot/reports/usergroup_tallies.py).
    group_tallies: GroupTallies = field(repr=False)
    # The web client for Sign in with Slack's token exchange (None: not configured).
    slack_oidc: Any = None


def services() -> Dashboard:
    found: Dashboard = current_app.extensions["missionbot"]
    return found


def session_key(settings: Settings) -> str:
    """MISSIONBOT_DASHBOARD_SECRET, else one derived from the signing secret (so every process
    of one bot signs alike), else random (one process; sessions end with it)."""
    if settings.missionbot_dashboard_secret is not None:
        return settings.missionbot_dashboard_secret.get_secret_value()
    if settings.slack_signing_secret is not None:
        secret = settings.slack_signing_secret.get_secret_value().encode()
        return hmac.new(secret, b"missionbot dashboard sessions", hashlib.sha256).hexdigest()
    return secrets.token_hex(32)


def create_dashboard(
    settings: Settings, database: Database, *, groups: GroupSource, clock: Clock = utcnow
) -> Flask:
    app = Flask("bot.web", static_url_path="/dashboard/static")
    app.config.update(
        SECRET_KEY=session_key(settings),
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_PATH="/dashboard",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.missionbot_public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        MAX_CONTENT_LENGTH=16 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["missionbot"] = Dashboard(
        settings,
        database,
        clock,
        groups,
        GroupTallies(database, clock, settings.missionbot_tallied_groups),
    )
    language.install(app)

    from bot.web.pages import PAGES
    from bot.web.signin_views import SIGNIN

    app.register_blueprint(SIGNIN)
    app.register_blueprint(PAGES)
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Sign-in links carry their token in the path: never in a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_page(status: int, title: str, message: str | UserError) -> tuple[Any, int]:
    """The error page in the reader's language (`title` and `message` are msgids, or a
    `UserError`); as JSON, in English: an interface, like the JSON pages."""
    if request.args.get("format") == "json":
        english = message.message if isinstance(message, UserError) else message
        return {"error": english}, status
    t = language.page_speech()
    said = message.said(t) if isinstance(message, UserError) else t.gettext(message)
    return render_template("error.html", title=t.gettext(title), message=said), status


SOMETHING_WRONG = N_("Something went wrong")
_TITLES = {
    400: N_("That can't be shown"),
    401: N_("Please sign in"),
    403: N_("Not for you, sorry"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    413: N_("Too large"),
}
# Instead of Werkzeug's own descriptions (English, and about "the server"), for the errors
# the dashboard doesn't raise itself.
_MESSAGES = {
    404: N_("There is no dashboard page at this address."),
    405: N_("This address doesn't take that kind of request."),
    413: N_("That request is too large for the dashboard."),
}


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    message = error.description or ""
    if status in _MESSAGES and (status == 404 or message == type(error).description):
        message = _MESSAGES[status]
    return error_page(status, _TITLES.get(status, SOMETHING_WRONG), message)


def _unexpected(error: Exception) -> Any:
    log.exception("dashboard request failed: %s", type(error).__name__)
    return error_page(500, SOMETHING_WRONG, N_("The dashboard couldn't answer; try again."))
