"""`--demo-data`: three months of plausible kudos in the demo workspace.

A few hundred kudos on working days, from everyone to everyone, in #general and #support,
recorded through the kudos service (`give`, with its rules and allowances) at past moments of
the console's clock, so that leaderboards, `/kudos principles`, `/kudos me` and the App Home
have something to show. Every principle is recognised at some point; the last two of the
mission go quiet for the most recent month, so the quiet-principles report has something to
say. The same seed gives the same history. Nothing is announced: these kudos are history.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from bot.audience import Audience
from bot.console.workspace import CHANNELS, TEAM_ID, Workspace
from bot.db.engine import Database
from bot.db.models import Kudos
from bot.errors import KudosRefused
from bot.kudos.service import Giver, Giving, Place, Recipient, Source, give
from bot.mission.service import MissionKeeper, load_catalog

DAYS = 91
SEED = 16
QUIET_DAYS = 31
HISTORY_DAYS = 7
MESSAGES = (
    "thanks for the clear delay notice to the customer",
    "you picked up the late Rotterdam booking and saw it through",
    "the handover notes were spotless",
    "explained the invoice line by line, no jargon",
    "called the customer before they had to call us",
    "found why the scanner kept dropping parcels and fixed it",
    "shared the numbers before the meeting, so we decided in ten minutes",
    "gave the new starter a proper tour of the yard",
    "owned the missed pickup and made it right the same day",
    "wrote up what went wrong last week so we all learn from it",
)


def fill(database: Database, mission: MissionKeeper, workspace: Workspace, now: dt.datetime) -> int:
    """Record the demo history once; how many kudos were added (0 if it was there already)."""
    mission.ensure_synced(database, TEAM_ID)
    with database.reading() as session:
        # Filled before: there are kudos from before the last week (the console's own are newer).
        history = select(func.count()).where(
            Kudos.team_id == TEAM_ID, Kudos.created_at < now - dt.timedelta(days=HISTORY_DAYS)
        )
        if session.scalar(history):
            return 0
        principles = load_catalog(session, team_id=TEAM_ID).principles
    rng = random.Random(SEED)
    people = workspace.people
    added = 0
    for days_ago in range(DAYS, 0, -1):
        day = now - dt.timedelta(days=days_ago)
        if day.weekday() >= 5:
            continue
        # Quiet lately: the last two principles get nothing in the most recent month.
        offered = principles if days_ago > QUIET_DAYS else principles[:-2]
        for _ in range(rng.randint(2, 6)):
            giver = rng.choice(people)
            receivers = rng.sample([p for p in people if p != giver], rng.choice((1, 1, 1, 2)))
            principle = rng.choice(offered)
            at = day.replace(hour=rng.randint(8, 16), minute=rng.randint(0, 59))
            try:
                with database.transaction() as session:
                    give(
                        session=session,
                        giving=Giving(
                            recipients=tuple(Recipient(p.id, p.handle) for p in receivers),
                            principle_id=principle.id,
                            message=rng.choice(MESSAGES),
                            source=Source.COMMAND,
                        ),
                        giver=Giver(giver.id, giver.timezone),
                        place=Place(TEAM_ID, rng.choice(CHANNELS).id, Audience.PUBLIC),
                        limit=1000,
                        now=at,
                    )
                added += 1
            except KudosRefused:
                continue  # a repeat of the same kudos within a minute: history allows it once
    return added
