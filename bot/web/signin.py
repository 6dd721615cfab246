"""Sign-in links for the dashboard: single use, ten minutes, bound to a person of a workspace.

The link's token is 32 random bytes; only its SHA-256 is stored (`dashboard_signins`), so
the table can't be turned back into working links. Redeeming it is one conditional UPDATE
(not used, not expired): two browsers opening the same link at once sign in one of them.
No Flask here: `pages.py` calls these inside its transactions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.db.models import DashboardSignin
from bot.i18n.speech import N_

LINK_LIFETIME = dt.timedelta(minutes=10)
SESSION_LIFETIME = dt.timedelta(hours=12)
LOGIN_PATH = "/dashboard/login/"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class LinkRefused(StrEnum):
    """Why a link signs no one in; the value is what the page says."""

    UNKNOWN = N_("This sign-in link isn't one I made. Ask for a new one with /kudos dashboard.")
    USED = N_("This sign-in link has been used already. Ask for a new one with /kudos dashboard.")
    EXPIRED = N_(
        "This sign-in link has expired (they last 10 minutes). "
        "Ask for a new one with /kudos dashboard."
    )


class SigninFailed(Exception):
    def __init__(self, reason: LinkRefused) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SignedIn:
    team_id: str
    user_id: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(
    session: Session, *, public_url: str, team_id: str, user_id: str, now: dt.datetime
) -> str:
    """A new sign-in link for `user_id` of `team_id`; links long expired are cleared too."""
    token = secrets.token_urlsafe(32)
    session.execute(delete(DashboardSignin).where(DashboardSignin.expires_at < now - LINK_LIFETIME))
    session.add(
        DashboardSignin(
            token_hash=_hash(token),
            team_id=team_id,
            user_id=user_id,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    return f"{public_url.rstrip('/')}{LOGIN_PATH}{token}"


def redeem(session: Session, token: str, *, now: dt.datetime) -> SignedIn:
    """Whose link this is, marking it used; `SigninFailed` saying why it signs no one in."""
    if not _TOKEN.match(token):
        raise SigninFailed(LinkRefused.UNKNOWN)
    digest = _hash(token)
    claimed = session.execute(
        update(DashboardSignin)
        .where(
            DashboardSignin.token_hash == digest,
            DashboardSignin.used_at.is_(None),
            DashboardSignin.expires_at > now,
        )
        .values(used_at=now)
    )
    row = session.execute(
        select(DashboardSignin.team_id, DashboardSignin.user_id, DashboardSignin.expires_at).where(
            DashboardSignin.token_hash == digest
        )
    ).first()
    if row is None:
        raise SigninFailed(LinkRefused.UNKNOWN)
    if not getattr(claimed, "rowcount", 0):
        raise SigninFailed(LinkRefused.EXPIRED if row.expires_at <= now else LinkRefused.USED)
    return SignedIn(row.team_id, row.user_id)
