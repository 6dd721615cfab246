"""Dashboard test helpers: a small workspace with kudos of every audience, a second workspace
sharing its user IDs, fixed user groups, a controllable clock, and signing in by link."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bot.config import Settings, example_mission_file
from bot.db.engine import Database
from bot.insights.numbers import Group
from bot.people import Person, remember_people
from bot.web.app import create_dashboard
from bot.web.signin import issue_link
from tests.support.reports import kudos_row, principle_ids, seed, sync

TEAM, OTHER_TEAM = "TDASH0001", "TOTHER001"
MANAGER, LISTED = "UMGR00001", "ULIST0001"  # a workspace admin; one named in MISSIONBOT_ADMINS
ANA, BEN, CARL, GONE = "UANA00001", "UBEN00001", "UCARL0001", "UGONE0001"
ENG, OPS = "SENG00001", "SOPS00001"
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
PUBLIC_URL = "http://dashboard.test"
# Words only ANA and BEN may read (a private channel), only BEN and CARL (a DM), and words
# everyone may read; the other workspace's words must never show in this one.
ANA_BEN_SECRET, BEN_CARL_SECRET = "SECRET-ANA-BEN", "SECRET-BEN-CARL"
PUBLIC_WORDS, OTHER_WORDS = "PUBLIC-WORDS-ANA-BEN", "OTHER-WORKSPACE-WORDS"
HOSTILE_NAME = "<script>alert(1)</script>=HYPERLINK(1)\u202eBen"


class FixedGroups:
    def groups(self, team_id: str) -> tuple[Group, ...]:
        if team_id != TEAM:
            return ()
        return (
            Group(ENG, "Engineering", frozenset({ANA, BEN})),
            Group(OPS, "Operations", frozenset({CARL})),
        )


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def person(user_id: str, name: str, **flags: Any) -> Person:
    return Person(
        id=user_id,
        name=name,
        timezone=flags.get("timezone", "Europe/Berlin"),
        is_bot=flags.get("is_bot", False),
        deleted=flags.get("deleted", False),
        is_admin=flags.get("is_admin", False),
        is_owner=False,
    )


def populate(database: Database) -> dict[str, int]:
    """The workspace: 6 kudos in November 2026 (one withdrawn), 2 in October, and the other
    workspace's 3 in November between the same user IDs. Returns the principle IDs."""
    sync(database, TEAM)
    sync(database, OTHER_TEAM)
    with database.transaction() as session:
        remember_people(
            session=session,
            team_id=TEAM,
            people=[
                person(MANAGER, "Mara Manager", is_admin=True),
                person(LISTED, "Lis Listed"),
                person(ANA, "Ana"),
                person(BEN, HOSTILE_NAME),
                person(CARL, "Carl", timezone="America/New_York"),
                person(GONE, "Gone", deleted=True),
            ],
            now=NOW,
        )
        remember_people(
            session=session, team_id=OTHER_TEAM, people=[person(ANA, "Other Ana")], now=NOW
        )
    ids = principle_ids(database, TEAM)
    other = principle_ids(database, OTHER_TEAM)
    plain, surprises = ids["plain-words"], ids["no-surprises"]
    day = dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC)
    seed(
        database,
        [
            kudos_row(TEAM, ANA, BEN, plain, day, message=PUBLIC_WORDS),
            kudos_row(
                TEAM,
                ANA,
                BEN,
                plain,
                day,
                message=ANA_BEN_SECRET,
                channel="CPRIV0001",
                audience="private",
            ),
            kudos_row(
                TEAM,
                BEN,
                CARL,
                surprises,
                day,
                message=BEN_CARL_SECRET,
                channel="DBC000001",
                audience="dm",
            ),
            kudos_row(TEAM, CARL, ANA, surprises, day, message="public thanks to Ana"),
            kudos_row(TEAM, CARL, BEN, plain, day, message="public thanks to Ben"),
            kudos_row(TEAM, MANAGER, BEN, plain, day, message="withdrawn", withdrawn=True),
            kudos_row(TEAM, ANA, CARL, plain, day - dt.timedelta(days=30), message="october"),
            kudos_row(TEAM, BEN, ANA, plain, day - dt.timedelta(days=31), message="october 2"),
            *[
                kudos_row(OTHER_TEAM, ANA, BEN, other["plain-words"], day, message=OTHER_WORDS)
                for _ in range(3)
            ],
        ],
    )
    return ids


def dashboard_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "mission_file": example_mission_file(),
        "slack_signing_secret": "test-signing-secret",
        "missionbot_admins": LISTED,
        "missionbot_public_url": PUBLIC_URL,
        "_env_file": None,
    }
    return Settings(**(values | overrides))


def dashboard(settings: Settings, database: Database, clock: Clock) -> Flask:
    app = create_dashboard(settings, database, groups=FixedGroups(), clock=clock)
    app.testing = False  # errors as people get them, not re-raised into the test
    return app


def link(database: Database, user_id: str, *, team: str = TEAM, now: dt.datetime = NOW) -> str:
    """A sign-in link's path, as `/kudos dashboard` would give it."""
    with database.transaction() as session:
        url = issue_link(session, public_url=PUBLIC_URL, team_id=team, user_id=user_id, now=now)
    return url.removeprefix(PUBLIC_URL)


def signed_in(app: Flask, database: Database, user_id: str, *, team: str = TEAM) -> FlaskClient:
    client = app.test_client()
    reply = client.get(link(database, user_id, team=team))
    assert reply.status_code == 302, reply.data
    return client
