"""Claims on scheduled posts: a post is claimed in `scheduled_posts` (unique on team, channel,
local date and kind) before it is queued, so two processes, or a cron job and a catch-up sweep,
never send the same post twice; how it went is recorded on the claim afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from enum import StrEnum

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import ScheduledPost


class PostKind(StrEnum):
    """What a scheduled post is (stored in scheduled_posts.kind): the principle of the day, or
    the weekly digest, which goes out on Mondays at the channel's post time where asked."""

    DAILY = "daily"
    DIGEST = "digest"


class PostStatus:
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


def claim_post(
    *,
    session: Session,
    team_id: str,
    channel_id: str,
    local_date: dt.date,
    now: dt.datetime,
    kind: PostKind = PostKind.DAILY,
    principle_id: int | None = None,
    retry_failed: bool = False,
    force: bool = False,
) -> int | None:
    """Claim the channel's post of `local_date` (showing `principle_id`, for a morning post);
    the claimed row's id, or None if taken.

    The insert is atomic on the unique key, so of two racing processes exactly one wins. A
    failed post can be claimed again with `retry_failed`; `force` takes any existing claim.
    """
    insert = dialect_insert(session)
    keys = {
        "team_id": team_id,
        "channel_id": channel_id,
        "local_date": local_date,
        "kind": kind,
    }
    claimed = session.scalar(
        insert(ScheduledPost)
        .values(
            **keys,
            principle_id=principle_id,
            status=PostStatus.SENDING,
            attempts=0,
            claimed_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(ScheduledPost.id)
    )
    if claimed is not None or not (retry_failed or force):
        return claimed
    conditions = [getattr(ScheduledPost, name) == value for name, value in keys.items()]
    if not force:
        conditions.append(ScheduledPost.status == PostStatus.FAILED)
    return session.scalar(
        update(ScheduledPost)
        .where(*conditions)
        .values(
            principle_id=principle_id,
            status=PostStatus.SENDING,
            claimed_at=now,
            updated_at=now,
            last_error=None,
        )
        .returning(ScheduledPost.id)
    )


def finish_post(
    *,
    session: Session,
    post_id: int,
    now: dt.datetime,
    attempts: int,
    message_ts: str | None = None,
    error: str | None = None,
) -> None:
    """Record how the claimed post went: sent with its ts, or failed with the reason."""
    status = PostStatus.FAILED if error else PostStatus.SENT
    session.execute(
        update(ScheduledPost)
        .where(ScheduledPost.id == post_id)
        .values(
            status=status,
            attempts=ScheduledPost.attempts + attempts,
            message_ts=message_ts,
            last_error=error[:200] if error else None,
            updated_at=now,
        )
        # No session objects of this table to keep in step: skip the ORM's evaluation.
        .execution_options(synchronize_session=False)
    )


def claimed_keys(
    *,
    session: Session,
    since: dt.date,
    kind: PostKind = PostKind.DAILY,
    include_failed: bool = True,
    channels: Collection[tuple[str, str]] | None = None,
) -> set[tuple[str, str, dt.date]]:
    """(team, channel, local date) of the posts claimed since `since`, to skip them cheaply.

    `channels` ((team, channel) pairs) narrows it to those: cron jobs firing for some channels
    must not read every channel's claims, or a fan-out of N channels reads N² rows.
    """
    query = select(ScheduledPost.team_id, ScheduledPost.channel_id, ScheduledPost.local_date).where(
        ScheduledPost.kind == kind, ScheduledPost.local_date >= since
    )
    if channels is not None:
        query = query.where(
            tuple_(ScheduledPost.team_id, ScheduledPost.channel_id).in_(list(channels))
        )
    if not include_failed:
        query = query.where(ScheduledPost.status != PostStatus.FAILED)
    return {(team, channel, day) for team, channel, day in session.execute(query)}
