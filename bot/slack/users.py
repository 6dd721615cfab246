"""Who a Slack user is: the people directory in front of Slack (`users.list`, `users.info`).

See bot/people.py for why the bot keeps its own copy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db.engine import Database
from bot.db.models import Clock, utcnow
from bot.people import Person, find_people, remember_people

log = logging.getLogger(__name__)

USER_CACHE_SECONDS = 300
USER_CACHE_SIZE = 10_000
USERS_LIST_PAGE = 200
SYNC_EVERY_S = 12 * 3600.0


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
    ) -> None:
        self._database = database
        self._clock = clock
        self._cache: TTLCache[tuple[str, str], Person] = TTLCache(USER_CACHE_SIZE, ttl_seconds)
        self._lock = threading.Lock()

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


def sync_directory(client: WebClient, directory: UserDirectory) -> int:
    """Copy the installation's people from `users.list`, a page at a time; how many were copied.

    Everyone is kept under the installation's team (bot/slack/installation.py, `team_of`),
    not under each member's own `team_id` (on Enterprise Grid, their home workspace). An
    org-wide token must name the workspace to list (`team_id`), so each workspace the org
    install was added to (`auth.teams.list`) is listed in turn; someone in several of them
    is one person. `users.list` is Tier 2 (20+ calls a minute): the client's own 429 handling
    waits between pages, which is fine here — this runs in a thread of its own, never in a
    request.
    """
    installation = client.auth_test()
    org_wide = installation.get("is_enterprise_install") is True
    team = str(installation.get("enterprise_id") if org_wide else installation.get("team_id"))
    workspaces: list[str | None] = list(_org_workspaces(client)) if org_wide else [None]
    copied = 0
    for workspace in workspaces:
        copied += _copy_workspace(client, directory, team, workspace)
    return copied


def _org_workspaces(client: WebClient) -> Iterable[str]:
    cursor = None
    while True:
        page = client.auth_teams_list(limit=USERS_LIST_PAGE, cursor=cursor)
        yield from (str(team["id"]) for team in page.get("teams") or [] if team.get("id"))
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def _copy_workspace(
    client: WebClient, directory: UserDirectory, team: str, workspace: str | None
) -> int:
    copied, cursor = 0, None
    while True:
        # `workspace` is None for a workspace token: only an org-wide one needs it.
        page = client.users_list(
            limit=USERS_LIST_PAGE, cursor=cursor, team_id=workspace, include_locale=True
        )
        people = [person_from_api(m) for m in page.get("members") or [] if m.get("id")]
        directory.remember(team, people)
        copied += len(people)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return copied


class DirectorySync:
    """Refreshes the directory from `users.list` at start and then every `every` seconds."""

    def __init__(
        self, client: WebClient, directory: UserDirectory, *, every: float = SYNC_EVERY_S
    ) -> None:
        self._client = client
        self._directory = directory
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="people-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sync_once()
            self._stop.wait(self._every)

    def sync_once(self) -> int:
        try:
            copied = sync_directory(self._client, self._directory)
        except (SlackApiError, SlackClientError, OSError) as error:
            # users.info still answers for anyone missing; the next round tries again.
            log.warning("people directory sync failed: %s", type(error).__name__)
            return 0
        log.info("people directory synced: %d people", copied)
        return copied
