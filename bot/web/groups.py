"""The workspace's user groups, from Slack's `usergroups.list` (with their members), kept five
minutes: the dashboard's group filter and network page read them, and Tier 2's 20 calls a
minute must not be spent once per page view."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.insights.numbers import Group
from bot.slack.users import org_workspaces

log = logging.getLogger(__name__)
GROUPS_CACHE_SECONDS = 300


class GroupsUnavailable(Exception):
    """Slack wouldn't list the user groups (no `usergroups:read`, or Slack is down)."""


class GroupSource(Protocol):
    def groups(self, team_id: str) -> tuple[Group, ...]: ...


def is_enterprise(team_id: str) -> bool:
    """An Enterprise Grid org's ID (`E…`), under which an org-wide install keeps its records."""
    return team_id.startswith("E")


class SlackGroups:
    def __init__(self, client: WebClient, ttl_seconds: float = GROUPS_CACHE_SECONDS) -> None:
        self._client = client
        self._cache: TTLCache[str, tuple[Group, ...]] = TTLCache(100, ttl_seconds)
        self._lock = threading.Lock()

    def groups(self, team_id: str) -> tuple[Group, ...]:
        with self._lock:
            cached = self._cache.get(team_id)
        if cached is not None:
            return cached
        try:
            # An org-wide install keeps its records under its enterprise (`E…`); its user
            # groups are each workspace's, asked for by workspace (its token must name one).
            workspaces = list(org_workspaces(self._client)) if is_enterprise(team_id) else [team_id]
            answers = [
                self._client.usergroups_list(include_users=True, team_id=workspace)
                for workspace in workspaces
            ]
        except (SlackApiError, SlackClientError) as error:
            log.info("usergroups.list failed: %s", type(error).__name__)
            raise GroupsUnavailable from None
        # By ID: an org-wide group shows in each workspace it was added to.
        unique = {
            str(g["id"]): Group(
                str(g["id"]),
                str(g.get("name") or g.get("handle") or g["id"]),
                frozenset(str(u) for u in g.get("users") or ()),
            )
            for answer in answers
            for g in answer.get("usergroups") or ()
            if isinstance(g, dict) and g.get("id") and not g.get("date_delete")
        }
        found = tuple(sorted(unique.values(), key=lambda g: g.name.lower()))
        with self._lock:
            self._cache[team_id] = found
        return found
