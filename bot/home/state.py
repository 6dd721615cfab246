"""Whether a person's App Home needs publishing, and the bookkeeping around a publish.

Slack keeps a published Home and sends it back with every `app_home_opened`, so the bot
publishes only when what the Home shows has changed. What it shows is fixed by its
*fingerprint*: who it is for, their role (a manager's Home has more), their local day (today's
principle, this month's numbers), their language (a locale or workspace language changed
redraws it) and their *data version*, which every change touching them
bumps (bot/home/versions.py). The fingerprint travels in the view's `private_metadata`, so an
opening whose view carries the current one costs no Web API call.

Otherwise one `HOME_PUBLISH` outbox row is queued for the person, never two: the row's
existence is `publish_queued_at` on their `home_states` row, set under that row's lock. The
outbox handler (bot/slack/outbound/home.py) draws the Home at send time (`begin_publish`),
and whatever happens to the send ends the publish (`end_publish`). A publish left queued
longer than `STALE_QUEUE` (a row lost with a database restore) no longer blocks the next.

No Slack here: the caller says who the person is (`Viewer`) and what Slack showed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ScalarSelect, select, update
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import HomeState, OutboxMessage, Person, WorkspaceSettings
from bot.i18n.negotiate import negotiate
from bot.kudos.service import local_day
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.queue import Status

# Bump when the Home's layout changes: every published Home is then out of date.
LAYOUT = "home1"
# A publish queued this long ago and never ended was lost: queue another.
STALE_QUEUE = dt.timedelta(minutes=15)
# An opening records itself at most this often when nothing else changed (one write an
# hour, not one per opening): the refresh job only needs to know who was here lately.
OPENED_GRAIN = dt.timedelta(hours=1)


class HomeRole(StrEnum):
    """What the Home shows a person: managers also see the admin part and promise health."""

    MEMBER = "member"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who opened the Home, as the directory says."""

    user_id: str
    role: HomeRole
    timezone: str | None


def remembered_viewer(session: Session, *, team_id: str, user_id: str) -> Viewer | None:
    """Who the bot last drew this person's Home for (role, timezone), or None: what an opening
    goes by when the directory doesn't hold them yet, rather than asking Slack again."""
    state = session.get(HomeState, (team_id, user_id))
    if state is None:
        return None
    return Viewer(user_id, HomeRole(state.role), state.timezone)


def home_language(session: Session, *, team_id: str, user_id: str, default: str) -> str:
    """The language a person's Home is drawn in: their locale as the directory holds it, else
    the workspace's (`default`: MISSIONBOT_LANGUAGE). Read from the database alike by an
    opening and by the publish, so that the two always agree on the fingerprint."""
    # One round trip, as bot/i18n/whose.py would answer it in two.
    locale, chosen = session.execute(select(*_language_columns(team_id, user_id))).one()
    return negotiate(locale, chosen or default)


def _language_columns(team_id: str, user_id: str) -> tuple[ScalarSelect[str], ScalarSelect[str]]:
    """The person's locale and the workspace's chosen language, as columns: an opening reads
    them along with its `home_states` row rather than in a statement of their own."""
    return (
        select(Person.locale)
        .where(Person.team_id == team_id, Person.user_id == user_id)
        .scalar_subquery(),
        select(WorkspaceSettings.language)
        .where(WorkspaceSettings.team_id == team_id)
        .scalar_subquery(),
    )


def fingerprint(
    *, user_id: str, role: str, day: dt.date, version: int, language: str = "en"
) -> str:
    """What fixes a Home's content; readable, so that a log or a view says which it was."""
    return f"{LAYOUT}:{user_id}:{role}:{day.isoformat()}:{version}:{language}"


class Opening(StrEnum):
    """What an `app_home_opened` led to."""

    CURRENT = "current"  # the Home Slack showed is up to date: nothing to call
    QUEUED = "queued"  # a publish was queued
    WAITING = "waiting"  # a publish was already queued: moved to the front


def _state(
    session: Session, team_id: str, viewer: Viewer, now: dt.datetime, default_language: str
) -> tuple[HomeState, str]:
    """The person's row, made if new, locked until the transaction ends; and the language
    their Home is drawn in (`home_language`), read in the same statement."""
    insert = dialect_insert(session)
    session.execute(
        insert(HomeState)
        .values(
            team_id=team_id,
            user_id=viewer.user_id,
            role=viewer.role.value,
            timezone=viewer.timezone,
            data_version=0,
            last_opened_at=now,
        )
        .on_conflict_do_nothing()
    )
    state, locale, chosen = session.execute(
        select(HomeState, *_language_columns(team_id, viewer.user_id))
        .where(HomeState.team_id == team_id, HomeState.user_id == viewer.user_id)
        .with_for_update(of=HomeState)
        .execution_options(populate_existing=True)
    ).one()
    return state, negotiate(locale, chosen or default_language)


def is_current(
    session: Session,
    *,
    team_id: str,
    viewer: Viewer,
    shown: str | None,
    now: dt.datetime,
    default_language: str = "en",
) -> bool:
    """A read-only look: the Home Slack showed is current and nothing about the opening needs
    recording, so the opening costs neither a call nor a write."""
    if shown is None:
        return False
    # The row and the language (as `home_language` reads it) in one statement.
    found = session.execute(
        select(HomeState, *_language_columns(team_id, viewer.user_id)).where(
            HomeState.team_id == team_id, HomeState.user_id == viewer.user_id
        )
    ).one_or_none()
    if found is None:
        return False
    state, locale, chosen = found
    expected = fingerprint(
        user_id=viewer.user_id,
        role=viewer.role,
        day=local_day(now, viewer.timezone),
        version=state.data_version,
        language=negotiate(locale, chosen or default_language),
    )
    return (
        shown == expected
        and state.role == viewer.role
        and state.timezone == viewer.timezone
        and state.last_opened_at is not None
        and now - state.last_opened_at < OPENED_GRAIN
    )


def open_home(
    session: Session,
    *,
    team_id: str,
    viewer: Viewer,
    shown: str | None,
    view_hash: str | None,
    now: dt.datetime,
    default_language: str = "en",
) -> Opening:
    """Record an opening; queue a publish unless the Home Slack showed (`shown`: the
    fingerprint in its view, None without one) is current or one is already queued."""
    state, language = _state(session, team_id, viewer, now, default_language)
    state.last_opened_at = now
    if viewer.role != state.role or viewer.timezone != state.timezone:
        # A role change shows in the fingerprint itself; a moved person's day may too.
        state.role, state.timezone = viewer.role.value, viewer.timezone
    if view_hash:
        state.view_hash = view_hash
    expected = fingerprint(
        user_id=viewer.user_id,
        role=viewer.role,
        day=local_day(now, viewer.timezone),
        version=state.data_version,
        language=language,
    )
    if shown == expected:
        state.published = shown
        return Opening.CURRENT
    # What Slack has is what counts, whatever the bot thought it published.
    state.published = shown
    queued = state.publish_queued_at
    if queued is not None and now - queued < STALE_QUEUE:
        _to_the_front(session, team_id, viewer.user_id, now)
        return Opening.WAITING
    if queued is not None:
        forget_lost_publish(session, team_id=team_id, user_id=viewer.user_id, now=now)
    state.publish_queued_at = now
    queue_publish(session, team_id=team_id, user_id=viewer.user_id, now=now)
    return Opening.QUEUED


def queue_publish(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
    chart_tried: bool = False,
) -> None:
    """The outbox row that publishes the person's Home (its caller set `publish_queued_at`).
    `chart_tried`: the manager's chart upload was tried already; publish without it."""
    queue.enqueue(
        session,
        team_id=team_id,
        kind=OutboxKind.HOME_PUBLISH,
        channel_id=user_id,
        subject=user_id,
        after={"chart_tried": True} if chart_tried else None,
        not_before=not_before or now,
        now=now,
        flush=False,
    )


def forget_lost_publish(session: Session, *, team_id: str, user_id: str, now: dt.datetime) -> None:
    """A publish queued too long ago is given up before another is queued: its row, if it
    is still waiting somewhere (a sender that stopped claiming), is cancelled."""
    queue.cancel(
        session, team_id=team_id, subject=user_id, kinds=[OutboxKind.HOME_PUBLISH], now=now
    )


def _to_the_front(session: Session, team_id: str, user_id: str, now: dt.datetime) -> None:
    """Its queued publish is due now: the newest openers go first (HOME_PUBLISH is claimed
    newest first), the ones most likely still looking at the tab."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.channel_id == user_id,
            OutboxMessage.kind == OutboxKind.HOME_PUBLISH,
            OutboxMessage.status == Status.PENDING,
        )
        .values(not_before=now)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True, slots=True)
class Publish:
    """A Home to draw and publish: for whom, as what, for which day, in which language, under
    which fingerprint; `view_hash`: the hash of the view Slack has, so that a concurrent
    publish wins."""

    team_id: str
    user_id: str
    role: HomeRole
    timezone: str | None
    day: dt.date
    fingerprint: str
    view_hash: str | None
    language: str = "en"


def begin_publish(
    session: Session, *, team_id: str, user_id: str, now: dt.datetime, default_language: str = "en"
) -> Publish | None:
    """At send time: what to publish, or None when the Home Slack has is already current
    (the queued publish then ends here). The language is the person's as the directory has it
    now (`default_language`: MISSIONBOT_LANGUAGE, for a workspace that chose none)."""
    state = session.scalars(
        select(HomeState)
        .where(HomeState.team_id == team_id, HomeState.user_id == user_id)
        .with_for_update()
    ).one_or_none()
    if state is None:
        return None
    day = local_day(now, state.timezone)
    role = HomeRole(state.role)
    language = home_language(session, team_id=team_id, user_id=user_id, default=default_language)
    current = fingerprint(
        user_id=user_id, role=role, day=day, version=state.data_version, language=language
    )
    if current == state.published:
        state.publish_queued_at = None
        state.publishing = None
        return None
    state.publishing = current
    return Publish(team_id, user_id, role, state.timezone, day, current, state.view_hash, language)


def end_publish(
    session: Session, *, team_id: str, user_id: str, published: bool, view_hash: str | None
) -> None:
    """The publish is over: Slack took the view (`published`, with its new hash) or it
    failed for good; either way the next change may queue another."""
    state = session.get(HomeState, (team_id, user_id), with_for_update=True)
    if state is None:
        return
    if published:
        state.published = state.publishing
        state.view_hash = view_hash
    elif view_hash is None:
        # hash_conflict: someone else published meanwhile; we no longer know what Slack has.
        state.view_hash = None
    state.publishing = None
    state.publish_queued_at = None


def waiting_for(session: Session, *, team_id: str, user_id: str) -> bool:
    state = session.get(HomeState, (team_id, user_id))
    return state is not None and state.publish_queued_at is not None


def published_fingerprint(session: Session, *, team_id: str, user_id: str) -> str | None:
    state = session.get(HomeState, (team_id, user_id))
    return state.published if state else None


def parse_metadata(private_metadata: str | None) -> str | None:
    """The fingerprint a view carries, if it is one of ours (`LAYOUT:…`)."""
    if private_metadata and private_metadata.startswith(f"{LAYOUT}:"):
        return private_metadata
    return None
