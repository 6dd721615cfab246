"""Who a Slack user is (`users.info`), cached briefly so that busy commands don't hammer Slack."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from slack_sdk import WebClient

USER_CACHE_SECONDS = 300
USER_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class SlackUser:
    id: str
    name: str
    timezone: str | None
    is_bot: bool
    deleted: bool
    is_admin: bool
    is_owner: bool

    @classmethod
    def from_api(cls, user: dict[str, Any]) -> SlackUser:
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or user["id"]
        )
        return cls(
            id=user["id"],
            name=name,
            timezone=user.get("tz"),
            # Slackbot is a bot in every way that matters here but is not flagged is_bot.
            is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
            deleted=bool(user.get("deleted")),
            is_admin=bool(user.get("is_admin")),
            is_owner=bool(user.get("is_owner")),
        )


class UserDirectory:
    """A TTL cache in front of `users.info`, safe to share between request threads."""

    def __init__(self, ttl_seconds: float = USER_CACHE_SECONDS) -> None:
        self._cache: TTLCache[tuple[str, str], SlackUser] = TTLCache(USER_CACHE_SIZE, ttl_seconds)
        self._lock = threading.Lock()

    def get(self, client: WebClient, team_id: str, user_id: str) -> SlackUser:
        key = (team_id, user_id)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        user = SlackUser.from_api(client.users_info(user=user_id)["user"])
        with self._lock:
            self._cache[key] = user
        return user
