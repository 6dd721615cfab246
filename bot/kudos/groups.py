"""A kudos as people see it, and the one query that reads it.

The kudos table keeps a row per receiver, joined by `group_id`; what people see is one kudos:
its giver, everyone who received it, its principle, its words, where and when. Announcements,
the morning post's example, onboarding lessons and `/mission lived` read it through
`kudos_groups`; `give` and `withdraw_group` (bot/kudos/service.py) return one with what their
write adds (the allowance left; the announcement to redraw).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Self

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audience import Audience
from bot.db.models import Kudos, Principle
from bot.mission.service import PrincipleInfo, principle_info

# How far back a "recent" kudos goes when one is quoted.
RECENT_KUDOS = dt.timedelta(days=90)


@dataclass(frozen=True, slots=True)
class KudosGroup:
    """One kudos: a giver, everyone who received it (those it still stands for, or all of them
    once it is withdrawn, so a withdrawn announcement can still be drawn), and whether it stands."""

    group_id: str
    giver_id: str
    receiver_ids: tuple[str, ...]
    principle: PrincipleInfo
    message: str
    channel_id: str | None
    created_at: dt.datetime
    withdrawn: bool = False
    # Who could read it where it was given (bot/audience.py): whether it may be quoted.
    audience: Audience = Audience.UNKNOWN

    def in_language(self, language: str) -> Self:
        """The same kudos with its principle as a reader of `language` sees it."""
        return replace(self, principle=self.principle.in_language(language))


def kudos_groups(*, session: Session, team_id: str, group_ids: Sequence[str]) -> list[KudosGroup]:
    """The kudos of these groups, in the order asked (unknown ones left out), as they are now."""
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        return []
    rows = list(
        session.scalars(
            select(Kudos)
            .where(Kudos.team_id == team_id, Kudos.group_id.in_(wanted))
            .order_by(Kudos.id)
        )
    )
    principles = {
        p.id: principle_info(p)
        for p in session.scalars(
            select(Principle).where(Principle.id.in_({r.principle_id for r in rows}))
        )
    }
    by_group: dict[str, list[Kudos]] = {}
    for row in rows:
        by_group.setdefault(row.group_id, []).append(row)
    groups = []
    for group_id in wanted:
        members = by_group.get(group_id)
        if not members:
            continue
        standing = [r for r in members if r.withdrawn_at is None]
        first = members[0]
        groups.append(
            KudosGroup(
                group_id=group_id,
                giver_id=first.giver_id,
                receiver_ids=tuple(dict.fromkeys(r.receiver_id for r in standing or members)),
                principle=principles[first.principle_id],
                message=first.message,
                channel_id=first.channel_id,
                created_at=min(r.created_at for r in members),
                withdrawn=not standing,
                audience=Audience(first.audience),
            )
        )
    return groups


def groups_in_message(
    *, session: Session, team_id: str, channel_id: str, message_ts: str
) -> list[KudosGroup]:
    """Every kudos one announcement carries (several, when a busy channel's were combined)."""
    group_ids = session.scalars(
        select(Kudos.group_id)
        .where(
            Kudos.team_id == team_id,
            Kudos.public_channel_id == channel_id,
            Kudos.public_message_ts == message_ts,
        )
        .order_by(Kudos.id)
    ).all()
    return kudos_groups(session=session, team_id=team_id, group_ids=group_ids)
