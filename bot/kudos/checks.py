"""People a kudos was recorded for before Slack could say who they are, checked afterwards.

A kudos is never refused for the bot's own Slack budget (issue 23): when the giver or a
receiver isn't in the directory yet and Slack can't answer `users.info` within the request's
deadline (slow, 429, 5xx), the kudos is recorded with what is known — the workspace's usual
timezone for the giver's allowance day — and each such person gets a row here, in the kudos's
own transaction (`queue_checks`). A background job (bot/slack/checks.py) looks them up later,
at Slack's pace, and `settle` applies what it learnt: a receiver who is a bot, deactivated or
not in the workspace has the kudos withdrawn for them (the others keep it), and the giver is
told why; a giver who is no person has the whole kudos withdrawn. So the rules end exact: no
kudos to a bot or to someone gone stays counted. The self-kudos rule needs no look-up (IDs).

Plain Python over a SQLAlchemy session; Slack stays on the other side of `Person | None`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import Kudos, PersonCheck
from bot.errors import KudosRefused
from bot.kudos.service import WithdrawnKudos, lock_giver, withdraw_group
from bot.people import Person

# A person Slack couldn't answer about is asked again after this, doubling, at most MAX_DELAY.
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=1)


class Verdict(StrEnum):
    """Why a kudos is withdrawn for someone it was recorded for."""

    BOT = "bot"
    DEACTIVATED = "deactivated"
    NOT_IN_WORKSPACE = "not_in_workspace"


@dataclass(frozen=True, slots=True)
class Correction:
    """A kudos withdrawn for the person checked: for that receiver, or whole (its giver)."""

    withdrawn: WithdrawnKudos
    user_id: str
    verdict: Verdict
    # The giver hears why, unless it was the giver who turned out to be no person.
    tell_giver: bool


def verdict(person: Person | None) -> Verdict | None:
    """What Slack's answer means for a kudos: None, it stands."""
    if person is None:
        return Verdict.NOT_IN_WORKSPACE
    if person.is_bot:
        return Verdict.BOT
    if person.deleted:
        return Verdict.DEACTIVATED
    return None


def queue_checks(
    session: Session,
    *,
    team_id: str,
    group_id: str,
    giver_id: str,
    user_ids: Collection[str],
    counted_timezone: str | None,
    now: dt.datetime,
) -> None:
    """Check these people of a new kudos after the answer (in the kudos's transaction)."""
    if not user_ids:
        return
    insert = dialect_insert(session)(PersonCheck).on_conflict_do_nothing()
    session.execute(
        insert,
        [
            {
                "team_id": team_id,
                "user_id": user_id,
                "group_id": group_id,
                "giver": user_id == giver_id,
                "counted_timezone": counted_timezone,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for user_id in dict.fromkeys(user_ids)
        ],
    )


def claim_due(
    session: Session, *, now: dt.datetime, limit: int, hold: dt.timedelta
) -> list[tuple[str, str]]:
    """Up to `limit` people due a check, (team_id, user_id), oldest first, each held for
    `hold` so that another process leaves them alone meanwhile (one conditional UPDATE each:
    of two processes, one gets a person)."""
    due = session.execute(
        select(PersonCheck.team_id, PersonCheck.user_id)
        .where(PersonCheck.next_attempt_at <= now)
        .group_by(PersonCheck.team_id, PersonCheck.user_id)
        .order_by(func.min(PersonCheck.next_attempt_at))
        .limit(limit)
    ).all()
    claimed = []
    for team_id, user_id in due:
        taken = session.execute(
            update(PersonCheck)
            .where(
                PersonCheck.team_id == team_id,
                PersonCheck.user_id == user_id,
                PersonCheck.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + hold)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if taken:
            claimed.append((team_id, user_id))
    return claimed


def check_later(session: Session, *, team_id: str, user_id: str, now: dt.datetime) -> None:
    """Slack couldn't answer about this person yet: ask again later, backing off."""
    attempts = session.scalar(
        select(func.max(PersonCheck.attempts)).where(
            PersonCheck.team_id == team_id, PersonCheck.user_id == user_id
        )
    )
    delay = min(FIRST_DELAY * 2 ** int(attempts or 0), MAX_DELAY)
    session.execute(
        update(PersonCheck)
        .where(PersonCheck.team_id == team_id, PersonCheck.user_id == user_id)
        .values(attempts=PersonCheck.attempts + 1, next_attempt_at=now + delay)
        .execution_options(synchronize_session=False)
    )


def postpone(session: Session, *, team_id: str, user_id: str, until: dt.datetime) -> None:
    """Not asked yet (Slack's budget is spent for now): due again at `until`, no attempt counted."""
    session.execute(
        update(PersonCheck)
        .where(PersonCheck.team_id == team_id, PersonCheck.user_id == user_id)
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )


def settle(
    session: Session, *, team_id: str, user_id: str, person: Person | None, now: dt.datetime
) -> list[Correction]:
    """Apply what Slack said of `user_id` (None: not in the workspace) to every kudos waiting
    on them; the corrections made. The checks are done either way."""
    rows = list(
        session.scalars(
            select(PersonCheck).where(
                PersonCheck.team_id == team_id, PersonCheck.user_id == user_id
            )
        )
    )
    session.execute(
        delete(PersonCheck)
        .where(PersonCheck.team_id == team_id, PersonCheck.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    found = verdict(person)
    if found is None:
        return []
    corrections = []
    for row in rows:
        giver_id = session.scalar(
            select(Kudos.giver_id)
            .where(Kudos.team_id == team_id, Kudos.group_id == row.group_id)
            .limit(1)
        )
        if giver_id is None:
            continue
        lock_giver(session, team_id, giver_id)
        try:
            withdrawn = withdraw_group(
                session=session,
                team_id=team_id,
                giver_id=giver_id,
                giver_timezone=row.counted_timezone,
                group_id=row.group_id,
                now=now,
                receiver_ids=None if row.giver else [user_id],
            )
        except KudosRefused:
            continue  # withdrawn meanwhile (undone by its giver): nothing left to correct
        corrections.append(
            Correction(
                withdrawn=withdrawn, user_id=user_id, verdict=found, tell_giver=not row.giver
            )
        )
    return corrections


def waiting(session: Session, *, team_id: str | None = None) -> int:
    """How many checks are still waiting (for a team, or everywhere)."""
    query = select(func.count()).select_from(PersonCheck)
    if team_id is not None:
        query = query.where(PersonCheck.team_id == team_id)
    return int(session.scalar(query) or 0)
