"""Sign in with Slack (OpenID Connect), when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set.

The browser goes to Slack's authorize page with a `state` and a `nonce` kept in its own
session cookie (bound to that browser, consumed once: signin_views.py), comes back with a
code, and the code is exchanged server to server (`openid.connect.token`). Its id_token is
read as OpenID Connect Core §3.1.3.7 allows for a token received straight from the token
endpoint over TLS — the TLS server check stands in for the signature (so no JWKS fetching
and no JWT library) — and every claim is still checked: `iss` is Slack, `aud` is our client,
`exp` not passed, the `nonce` ours, and the team (or its enterprise) one this bot serves.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from typing import Any
from urllib.parse import urlencode

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.db.engine import Database
from bot.i18n.speech import N_
from bot.mission.service import known_teams
from bot.web.signin import SignedIn

AUTHORIZE_URL = "https://slack.com/openid/connect/authorize"
ISSUER = "https://slack.com"
CALLBACK_PATH = "/dashboard/login/slack/callback"
STATE_LIFETIME_S = 600
TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"
ENTERPRISE_CLAIM = "https://slack.com/enterprise_id"


class OidcRefused(Exception):
    """Slack's answer doesn't sign this person in here; the message says why, for them."""


def configured(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def redirect_uri(settings: Settings) -> str:
    return settings.missionbot_public_url + CALLBACK_PATH


def authorize_url(settings: Settings, *, state: str, nonce: str) -> str:
    query = {
        "response_type": "code",
        "scope": "openid profile",
        "client_id": settings.slack_client_id or "",
        "state": state,
        "nonce": nonce,
        "redirect_uri": redirect_uri(settings),
    }
    return f"{AUTHORIZE_URL}?{urlencode(query)}"


def claims_of(id_token: str) -> dict[str, Any]:
    try:
        payload = id_token.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise OidcRefused(N_("Slack's answer couldn't be read.")) from None
    if not isinstance(decoded, dict):
        raise OidcRefused(N_("Slack's answer couldn't be read."))
    return decoded


def check_claims(
    claims: dict[str, Any], *, client_id: str, nonce: str, teams: list[str], now: dt.datetime
) -> SignedIn:
    if claims.get("iss") != ISSUER:
        raise OidcRefused(N_("That sign-in didn't come from Slack."))
    audience = claims.get("aud")
    if audience != client_id and not (isinstance(audience, list) and client_id in audience):
        raise OidcRefused(N_("That sign-in was meant for another app."))
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)) or expires <= now.timestamp():
        raise OidcRefused(N_("That sign-in has expired. Start again."))
    if claims.get("nonce") != nonce:
        raise OidcRefused(N_("That sign-in wasn't started here. Start again."))
    team, user = claims.get(TEAM_CLAIM), claims.get(USER_CLAIM)
    enterprise = claims.get(ENTERPRISE_CLAIM)
    if not isinstance(user, str) or not isinstance(team, str):
        raise OidcRefused(N_("Slack didn't say who you are."))
    if team not in teams and not (isinstance(enterprise, str) and enterprise in teams):
        raise OidcRefused(N_("You signed in to a Slack workspace this bot doesn't serve."))
    return SignedIn(team, user)


def finish(
    settings: Settings, *, code: str, nonce: str, now: dt.datetime, database: Database
) -> SignedIn:
    """Exchange the code and check the id_token it brings (module docstring)."""
    assert settings.slack_client_id
    assert settings.slack_client_secret
    client = WebClient(
        base_url=settings.slack_api_url, timeout=math.ceil(settings.slack_api_timeout)
    )
    try:
        answer = client.openid_connect_token(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            code=code,
            redirect_uri=redirect_uri(settings),
        )
    except (SlackApiError, SlackClientError):
        raise OidcRefused(N_("Slack didn't confirm the sign-in. Start again.")) from None
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise OidcRefused(N_("Slack didn't confirm the sign-in. Start again."))
    with database.reading() as session:
        teams = known_teams(session)
    return check_claims(
        claims_of(id_token), client_id=settings.slack_client_id, nonce=nonce, teams=teams, now=now
    )
