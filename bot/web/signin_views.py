"""Signing in and out: the link from `/kudos dashboard`, Sign in with Slack, sign out.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure behind https, 12 hours
at most) holding the team, the person, when they signed in and a CSRF token; who they are
is looked up again on every request (`current_viewer`), so a manager removed from
MISSIONBOT_ADMINS, or a person deactivated, is treated as such on the next click.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from bot.i18n.speech import N_
from bot.web import oidc
from bot.web.access import Viewer, viewer
from bot.web.app import error_page, services
from bot.web.language import use_language
from bot.web.signin import SESSION_LIFETIME, SigninFailed, redeem

SIGNIN = Blueprint("signin", __name__, url_prefix="/dashboard")

DEACTIVATED = N_("Your Slack account here is deactivated, so the dashboard is closed to you.")
NOT_FOR_YOU = N_("Not for you, sorry")
SIGNIN_FAILED = N_("That sign-in didn't work")


def start_session(team_id: str, user_id: str) -> None:
    session.clear()
    session.permanent = True
    session["team"] = team_id
    session["user"] = user_id
    session["at"] = services().clock().timestamp()
    session["csrf"] = secrets.token_urlsafe(24)


def current_viewer() -> Viewer | None:
    """Who is signed in, as they are now; None (and the session ended) when no one is."""
    team_id, user_id, at = session.get("team"), session.get("user"), session.get("at")
    if not (isinstance(team_id, str) and isinstance(user_id, str) and isinstance(at, float)):
        return None
    dash = services()
    age = dash.clock().timestamp() - at
    if not 0 <= age <= SESSION_LIFETIME.total_seconds():
        session.clear()
        return None
    with dash.database.reading() as db:
        found = viewer(db, dash.settings, team_id, user_id)
    if found is None:
        session.clear()
        abort(403, DEACTIVATED)
    use_language(found.language)
    return found


def csrf_token() -> str:
    token = session.get("csrf")
    return token if isinstance(token, str) else ""


def check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, csrf_token()):
        abort(400, N_("This form has expired. Go back, reload the page and try again."))


@SIGNIN.get("/login/<token>")
def login_link(token: str) -> Any:
    dash = services()
    try:
        with dash.database.transaction() as db:
            who = redeem(db, token, now=dash.clock())
            person = viewer(db, dash.settings, who.team_id, who.user_id)
    except SigninFailed as failed:
        session.clear()
        return error_page(400, N_("That link doesn't sign you in"), failed.reason.value)
    if person is None:
        session.clear()
        return error_page(403, NOT_FOR_YOU, DEACTIVATED)
    start_session(who.team_id, who.user_id)
    return redirect(url_for("pages.overview"))


@SIGNIN.get("/signin")
def signin_page() -> Any:
    return render_template(
        "signin.html", slack=oidc.configured(services().settings), viewer=None, csrf=""
    )


@SIGNIN.post("/logout")
def logout() -> Any:
    check_csrf()
    session.clear()
    return redirect(url_for("signin.signin_page"))


@SIGNIN.get("/login/slack")
def slack_start() -> Any:
    dash = services()
    if not oidc.configured(dash.settings):
        abort(404)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    # The state lives in this browser's own session cookie: bound to it, and popped once.
    session.clear()
    session["oidc"] = {"state": state, "nonce": nonce, "at": dash.clock().timestamp()}
    return redirect(oidc.authorize_url(dash.settings, state=state, nonce=nonce))


@SIGNIN.get("/login/slack/callback")
def slack_callback() -> Any:
    dash = services()
    if not oidc.configured(dash.settings):
        abort(404)
    pending = session.pop("oidc", None)
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if (
        not isinstance(pending, dict)
        or not state
        or not hmac.compare_digest(state, str(pending.get("state", "")))
        or dash.clock().timestamp() - float(pending.get("at", 0)) > oidc.STATE_LIFETIME_S
    ):
        return error_page(
            400,
            SIGNIN_FAILED,
            N_(
                "This sign-in wasn't started in this browser, or "
                "was used already. Start again from the sign-in page."
            ),
        )
    if not code:
        return error_page(400, SIGNIN_FAILED, N_("Slack didn't sign you in."))
    try:
        who = oidc.finish(
            dash.settings,
            code=code,
            nonce=str(pending["nonce"]),
            now=dash.clock(),
            database=dash.database,
        )
    except oidc.OidcRefused as refused:
        return error_page(403, SIGNIN_FAILED, str(refused))
    with dash.database.reading() as db:
        person = viewer(db, dash.settings, who.team_id, who.user_id)
    if person is None:
        return error_page(403, NOT_FOR_YOU, DEACTIVATED)
    start_session(who.team_id, who.user_id)
    return redirect(url_for("pages.overview"))
