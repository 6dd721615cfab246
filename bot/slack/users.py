"""Who a Slack user is: the people directory in front of Slack (`users.list`, `users.info`).

`UserDirectory` answers who someone is (a bounded cache, the database, then `users.info`);
`DirectorySync` fills the database from `users.list` at Slack's pace. See bot/people.py for why
the bot keeps its own copy and how the fill's progress is kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db.engine import Database
from bot.db.models import Clock, utcnow
from bot.people import (
    Person,
    claim_fill,
    find_people,
    release_fill,
    remember_people,
    restart_fill,
    store_page,
    usual_timezone,
)

log = logging.getLogger(__name__)

USER_CACHE_SECONDS = 300
USER_CACHE_SIZE = 10_000
# users.info is Tier 4: about 100 calls a minute per workspace, short bursts allowed.
USERS_INFO_PER_MINUTE = 100
USERS_INFO_BURST = 20
# How long a workspace's usual timezone is kept before it is counted again.
USUAL_TIMEZONE_SECONDS = 600.0
USERS_LIST_PAGE = 200
# users.list is Tier 2: 20 calls a minute (a few at once are allowed; 3 stays well inside).
USERS_LIST_PER_MINUTE = 20
USERS_LIST_BURST = 3
SYNC_EVERY_S = 12 * 3600.0
# A page that failed (5xx, no connection) is asked again this long after (divided by the scale).
RETRY_ROUND_S = 30.0
# How long a process holds the fill without storing a page before another may take over.
FILL_LEASE = dt.timedelta(seconds=60)
# A 429 without a Retry-After (Slack always sends one) waits this long.
DEFAULT_RETRY_AFTER_S = 30.0


def person_from_api(user: dict[str, Any]) -> Person:
    """A person as `users.info`, `users.list` and the user events describe them."""
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user["id"]
    )
    return Person(
        id=user["id"],
        name=name,
        timezone=user.get("tz"),
        # Slackbot is a bot in every way that matters here but is not flagged is_bot.
        is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
        deleted=bool(user.get("deleted")),
        is_admin=bool(user.get("is_admin")),
        is_owner=bool(user.get("is_owner")),
        locale=user.get("locale") or None,
    )


# The listeners' name for a person as Slack describes them.
SlackUser = Person


class UserDirectory:
    """Who someone is: a short in-memory cache, then the people directory in the database
    (bot/people.py), and only for someone neither knows, `users.info` — whose answer is kept.

    Safe to share between request threads. Without a database (the command line) it is the
    in-memory cache in front of `users.info` alone.
    """

    def __init__(
        self,
        database: Database | None = None,
        *,
        ttl_seconds: float = USER_CACHE_SECONDS,
        clock: Clock = utcnow,
        scale: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._clock = clock
        self._cache: TTLCache[tuple[str, str], Person] = TTLCache(USER_CACHE_SIZE, ttl_seconds)
        self._lock = threading.Lock()
        self._scale = scale
        self._monotonic = monotonic
        # Per workspace: until when (monotonic) users.info said 429, so nobody asks meanwhile.
        self._quiet_until: dict[str, float] = {}
        # Per workspace: users.info calls this process may still make now, and when counted.
        self._budget: dict[str, tuple[float, float]] = {}
        self._timezones: TTLCache[str, str | None] = TTLCache(1_000, USUAL_TIMEZONE_SECONDS)

    def may_ask(self, team_id: str) -> bool:
        """Whether `users.info` may be asked about someone in `team_id` now: no 429's
        Retry-After pending, and this process within Tier 4's pace (100 a minute, 20 at once),
        so a storm of newcomers is not answered by a storm of 429s. True spends one call."""
        with self._lock:
            now = self._monotonic()
            if now < self._quiet_until.get(team_id, 0.0):
                return False
            tokens, at = self._budget.get(team_id, (float(USERS_INFO_BURST), now))
            rate = USERS_INFO_PER_MINUTE * self._scale / 60
            tokens = min(float(USERS_INFO_BURST), tokens + (now - at) * rate)
            if tokens < 1:
                self._budget[team_id] = (tokens, now)
                return False
            self._budget[team_id] = (tokens - 1, now)
            return True

    def hold_asking(self, team_id: str, retry_after: float) -> None:
        """Slack answered 429 with `retry_after` (its seconds): ask nobody until it has passed."""
        until = self._monotonic() + retry_after / self._scale
        with self._lock:
            self._quiet_until[team_id] = max(self._quiet_until.get(team_id, 0.0), until)

    def usual_timezone(self, team_id: str) -> str | None:
        """The workspace's usual timezone (most of its people's), for someone Slack hasn't
        described yet; None (UTC) while the directory knows nobody. Read at most every
        `USUAL_TIMEZONE_SECONDS` per workspace."""
        with self._lock:
            if team_id in self._timezones:
                return self._timezones[team_id]
        timezone = None
        if self._database is not None:
            try:
                with self._database.reading() as session:
                    timezone = usual_timezone(session=session, team_id=team_id)
            except SQLAlchemyError as error:
                log.warning("could not read the usual timezone: %s", type(error).__name__)
                return None
        with self._lock:
            self._timezones[team_id] = timezone
        return timezone

    @property
    def database(self) -> Database | None:
        return self._database

    def get(self, client: WebClient, team_id: str, user_id: str) -> Person:
        key = (team_id, user_id)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        person = self._stored(team_id, user_id)
        if person is None:
            person = self.ask_slack(client, team_id, user_id)
            self.remember(team_id, [person])
        return person

    def cached(self, team_id: str, user_ids: Iterable[str]) -> dict[str, Person]:
        """Those of `user_ids` held in memory, by ID: no database, no Slack."""
        with self._lock:
            found = {user_id: self._cache.get((team_id, user_id)) for user_id in user_ids}
        return {user_id: person for user_id, person in found.items() if person is not None}

    def stored(
        self, session: Session, team_id: str, user_ids: Collection[str]
    ) -> dict[str, Person]:
        """Those of `user_ids` in the directory, by ID (one query), now also held in memory."""
        if not user_ids:
            return {}
        found = find_people(session=session, team_id=team_id, user_ids=user_ids)
        with self._lock:
            for person in found.values():
                self._cache[(team_id, person.id)] = person
        return found

    def ask_slack(self, client: WebClient, team_id: str, user_id: str) -> Person:
        """`users.info` for someone the directory doesn't know; held in memory, not stored:
        the caller writes it (`remember`, or `remember_people` in its own transaction)."""
        person = person_from_api(client.users_info(user=user_id, include_locale=True)["user"])
        with self._lock:
            self._cache[(team_id, user_id)] = person
        return person

    def remember(self, team_id: str, people: Sequence[Person]) -> None:
        """Keep what Slack said of these people, in memory and in the directory."""
        with self._lock:
            for person in people:
                self._cache[(team_id, person.id)] = person
        if self._database is None or not people:
            return
        try:
            with self._database.transaction() as session:
                remember_people(session=session, team_id=team_id, people=people, now=self._clock())
        except SQLAlchemyError as error:
            # Only the copy is lost: the answer at hand is right, the next one asks again.
            log.warning("could not store %d people: %s", len(people), type(error).__name__)

    def _stored(self, team_id: str, user_id: str) -> Person | None:
        if self._database is None:
            return None
        with self._database.reading() as session:
            return self.stored(session, team_id, [user_id]).get(user_id)


def installation_workspaces(client: WebClient) -> tuple[str, list[str | None]]:
    """The team people are kept under, and the workspaces to list for it.

    Everyone is kept under the installation's team (bot/slack/installation.py, `team_of`),
    not under each member's own `team_id` (on Enterprise Grid, their home workspace). An
    org-wide token must name the workspace to list (`team_id`), so each workspace the org
    install was added to (`auth.teams.list`) is listed in turn; someone in several of them
    is one person. A workspace token lists its own (None).
    """
    installation = client.auth_test()
    org_wide = installation.get("is_enterprise_install") is True
    team = str(installation.get("enterprise_id") if org_wide else installation.get("team_id"))
    return team, list(org_workspaces(client)) if org_wide else [None]


def org_workspaces(client: WebClient) -> Iterable[str]:
    """The workspaces an org-wide install was added to (`auth.teams.list`, every page)."""
    cursor = None
    while True:
        page = client.auth_teams_list(limit=USERS_LIST_PAGE, cursor=cursor)
        yield from (str(team["id"]) for team in page.get("teams") or [] if team.get("id"))
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


class CallPace:
    """One process's own calls at a Slack tier's pace: `per_minute` (times the rate scale), a
    short `burst` first. (The outbox's `Pace`, bot/outbox/queue.py, is the other kind: what all
    processes together sent of a kind, counted in the database.)

    `wait()` sleeps on `stop` (so stopping never waits out a pause) until the next call may go;
    `hold(seconds)` pushes the next call back (a 429's Retry-After, already scaled).
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        stop: threading.Event,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 60.0 / per_minute
        self.burst = burst
        self._stop = stop
        self._monotonic = monotonic
        # When the next call may go: `burst` calls may go at once from an idle start.
        self._next = monotonic() - (burst - 1) * self.interval

    def wait(self) -> bool:
        """Sleep until a call may go; False when stopped meanwhile."""
        now = self._monotonic()
        self._next = max(self._next, now - (self.burst - 1) * self.interval)
        delay = self._next - now
        if delay > 0 and self._stop.wait(delay):
            return False
        self._next += self.interval
        return not self._stop.is_set()

    def hold(self, seconds: float) -> None:
        self._next = max(self._next, self._monotonic() + seconds)


class FillOutcome(StrEnum):
    """How one round of `DirectorySync.fill` ended."""

    FINISHED = "finished"  # every page stored (now, or by a recent round)
    HELD_ELSEWHERE = "held_elsewhere"  # another process holds the lease
    INTERRUPTED = "interrupted"  # a page failed or the lease was lost: resumes from the cursor
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class FillRound:
    outcome: FillOutcome
    # People stored by this round.
    copied: int = 0
    # 429s answered by Slack, each waited out before the same page was asked again.
    limited: int = 0


class DirectorySync:
    """Fills the directory from `users.list` at Slack's pace, resumably, in one process at a time.

    Tier 2: `USERS_LIST_PER_MINUTE` pages of `USERS_LIST_PAGE` people (`include_locale`), each
    page stored with the next page's cursor (bot/people.py) under a lease in the database, so
    that a restart resumes where the fill stopped and a second `serve` process on the same
    PostgreSQL waits instead of filling too. A 429 is waited out (its Retry-After) and the same
    page asked again, never page one; a 5xx or a dropped connection ends the round, and the next
    round (`RETRY_ROUND_S` later) resumes from the stored cursor; a cursor Slack no longer
    accepts (`invalid_cursor`) starts again at page one, the upsert keeping everyone once.
    After a complete fill the next one starts `every` seconds later; `user_change` and
    `team_join` keep the directory current meanwhile. Pages go to the database, not to the
    in-memory cache, so memory stays flat at any size of workspace.

    Its client must not retry 429s itself (`create_web_client(settings, retries=0)`): a retry
    handler would sleep Slack's Retry-After unscaled and ask again without counting it.
    """

    def __init__(
        self,
        client: WebClient,
        directory: UserDirectory,
        *,
        database: Database | None = None,
        every: float = SYNC_EVERY_S,
        scale: float = 1.0,
        owner: str | None = None,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._directory = directory
        self._database = database if database is not None else directory.database
        self._every = every
        self._scale = scale
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._clock = clock
        self._stop = threading.Event()
        self._pace = CallPace(
            USERS_LIST_PER_MINUTE * scale, USERS_LIST_BURST, stop=self._stop, monotonic=monotonic
        )
        self._thread = threading.Thread(target=self._run, name="people-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            rounds = self.fill_all()
            outcomes = {r.outcome for r in rounds}
            if FillOutcome.INTERRUPTED in outcomes:
                wait = RETRY_ROUND_S / self._scale
            elif FillOutcome.HELD_ELSEWHERE in outcomes:
                # The holder may die: its lease runs out, and this process takes over.
                wait = FILL_LEASE.total_seconds() / 2
            else:
                wait = self._every
            self._stop.wait(wait)

    def sync_once(self) -> int:
        """One round for every workspace of the installation; how many people it stored."""
        return sum(r.copied for r in self.fill_all(fresh=True))

    def fill_all(self, *, fresh: bool = False) -> list[FillRound]:
        """One round of the fill for each workspace; `fresh`: even one finished lately."""
        if self._database is None:
            return []
        try:
            team, workspaces = installation_workspaces(self._client)
        except (SlackApiError, SlackClientError, OSError) as error:
            log.warning("people directory: who am I? %s", type(error).__name__)
            return [FillRound(FillOutcome.INTERRUPTED)]
        return [self.fill(team, workspace, fresh=fresh) for workspace in workspaces]

    def fill(self, team: str, workspace: str | None = None, *, fresh: bool = False) -> FillRound:
        """Fill `team` (from `workspace`, for an org-wide token) from where it stands."""
        assert self._database is not None
        key = team if workspace is None else f"{team}:{workspace}"[:32]
        try:
            with self._database.transaction() as session:
                state = claim_fill(
                    session=session, key=key, owner=self.owner, lease=FILL_LEASE, now=self._clock()
                )
                if state is None:
                    return FillRound(FillOutcome.HELD_ELSEWHERE)
                if state.finished_at is not None:
                    stale = self._clock() - state.finished_at >= dt.timedelta(seconds=self._every)
                    if not (fresh or stale):
                        release_fill(session=session, key=key, owner=self.owner)
                        return FillRound(FillOutcome.FINISHED)
                    restart_fill(session=session, key=key, owner=self.owner, now=self._clock())
                    state = replace(state, cursor=None, pages=0, people=0)
        except SQLAlchemyError as error:
            log.warning("people directory: could not claim the fill: %s", type(error).__name__)
            return FillRound(FillOutcome.INTERRUPTED)
        if state.cursor:
            log.info("people directory: resuming %s after %d pages", key, state.pages)
        return self._pages(key, team, workspace, state.cursor)

    def _pages(self, key: str, team: str, workspace: str | None, cursor: str | None) -> FillRound:
        copied = limited = 0
        while True:
            if not self._pace.wait():
                self._release(key)
                return FillRound(FillOutcome.STOPPED, copied, limited)
            asked_at = self._clock()
            try:
                # `workspace` is None for a workspace token: only an org-wide one needs it.
                page = self._client.users_list(
                    limit=USERS_LIST_PAGE,
                    cursor=cursor,
                    include_locale=True,
                    team_id=workspace,
                )
            except SlackApiError as error:
                status = error.response.status_code
                reason = error.response.get("error")
                if status == 429:
                    limited += 1
                    self._wait_out(key, error.response.headers)
                    continue
                if reason == "invalid_cursor" and cursor:
                    log.warning("people directory: Slack refused the cursor; from page one")
                    if not self._restart(key):
                        return FillRound(FillOutcome.INTERRUPTED, copied, limited)
                    cursor = None
                    continue
                log.warning("people directory: users.list failed: %s %s", status, reason)
                self._release(key)
                return FillRound(FillOutcome.INTERRUPTED, copied, limited)
            except (SlackClientError, OSError) as error:
                log.warning("people directory: users.list failed: %s", type(error).__name__)
                self._release(key)
                return FillRound(FillOutcome.INTERRUPTED, copied, limited)
            people = [person_from_api(m) for m in page.get("members") or [] if m.get("id")]
            following = (page.get("response_metadata") or {}).get("next_cursor") or None
            try:
                with self._database.transaction() as session:  # type: ignore[union-attr]
                    held = store_page(
                        session=session,
                        key=key,
                        team_id=team,
                        owner=self.owner,
                        people=people,
                        next_cursor=following,
                        asked_at=asked_at,
                        lease=FILL_LEASE,
                        now=self._clock(),
                    )
            except SQLAlchemyError as error:
                log.warning("people directory: could not store a page: %s", type(error).__name__)
                return FillRound(FillOutcome.INTERRUPTED, copied, limited)
            if not held:
                log.warning("people directory: lost the fill's lease to another process")
                return FillRound(FillOutcome.INTERRUPTED, copied, limited)
            copied += len(people)
            if following is None:
                log.info("people directory filled: %s, %d people this round", key, copied)
                return FillRound(FillOutcome.FINISHED, copied, limited)
            cursor = following

    def _wait_out(self, key: str, headers: Any) -> None:
        """Hold the next page for the 429's Retry-After (Slack's seconds, so scaled), keeping
        the lease for as long."""
        retry_after = _retry_after(headers)
        self._pace.hold(retry_after / self._scale)
        if retry_after / self._scale > FILL_LEASE.total_seconds() / 2:
            self._renew(key, dt.timedelta(seconds=retry_after / self._scale) + FILL_LEASE)

    def _renew(self, key: str, lease: dt.timedelta) -> None:
        assert self._database is not None
        with contextlib.suppress(SQLAlchemyError), self._database.transaction() as session:
            claim_fill(session=session, key=key, owner=self.owner, lease=lease, now=self._clock())

    def _restart(self, key: str) -> bool:
        assert self._database is not None
        try:
            with self._database.transaction() as session:
                return restart_fill(session=session, key=key, owner=self.owner, now=self._clock())
        except SQLAlchemyError:
            return False

    def _release(self, key: str) -> None:
        assert self._database is not None
        with contextlib.suppress(SQLAlchemyError), self._database.transaction() as session:
            release_fill(session=session, key=key, owner=self.owner)


def retry_after_seconds(headers: Any) -> float:
    """A 429's Retry-After in Slack's seconds (at least 1; 30 when Slack left it out)."""
    return _retry_after(headers)


def _retry_after(headers: Any) -> float:
    headers = headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(float(value or DEFAULT_RETRY_AFTER_S), 1.0)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_S
