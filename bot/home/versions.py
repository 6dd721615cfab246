"""What makes a published App Home out of date: bump the data version of the people a change
touches, in the change's own transaction (so a Home can never be published from data older
than its fingerprint says).

- a kudos given, withdrawn or reacted into being: its giver and its receivers;
- anything that changes the managers' part (every kudos does: their principle breakdown and
  promise health): every manager of the workspace;
- the mission's principles changing: everyone in the workspace.

A role change and a new day need no bump: the role and the local day are in the fingerprint
itself (bot/home/state.py). Only people who have a Home have a row; a bump for anyone else is
a no-op, so it costs one UPDATE whatever the workspace's size.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from bot.db.models import HomeState

MANAGER = "manager"  # bot/home/state.py's HomeRole.MANAGER, without importing the service


def bump_people(session: Session, *, team_id: str, user_ids: Iterable[str]) -> int:
    """A kudos (given, withdrawn, reacted) changed these people's Homes, and the managers'.
    How many Homes are now out of date."""
    people = sorted(set(user_ids))
    result = session.execute(
        update(HomeState)
        .where(
            HomeState.team_id == team_id,
            or_(HomeState.user_id.in_(people), HomeState.role == MANAGER),
        )
        .values(data_version=HomeState.data_version + 1)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def bump_workspace(session: Session, *, team_id: str) -> int:
    """Something every Home shows changed (the mission, its principles)."""
    result = session.execute(
        update(HomeState)
        .where(HomeState.team_id == team_id)
        .values(data_version=HomeState.data_version + 1)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
