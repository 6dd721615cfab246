"""Which `Speech` a listener draws with: the reader's for what only they see, the workspace's
for what a channel sees (bot/i18n/whose.py says why).

The workspace language is read on most requests, so it is kept for `CACHE_SECONDS`; a change
made here (`/kudos settings language`) takes effect at once, one made by another process
within that time. A kudos's transaction asks for it too (the receivers' DMs fall back to it),
with its own session (`in_session`): on a miss it reads there, not on a second connection.
A person's locale comes with the person (the people directory, cached).
"""

from __future__ import annotations

import threading

from cachetools import TTLCache
from sqlalchemy.orm import Session

from bot.db.engine import Database
from bot.i18n.negotiate import negotiate
from bot.i18n.speech import Speech, speech
from bot.i18n.whose import workspace_language

CACHE_SECONDS = 30


class WorkspaceLanguages:
    """Each workspace's language, cached briefly; safe to share between request threads."""

    def __init__(self, default: str = "en") -> None:
        self.default = default
        self._cache: TTLCache[str, str] = TTLCache(10_000, CACHE_SECONDS)
        self._lock = threading.Lock()

    def of(self, database: Database, team_id: str) -> str:
        with self._lock:
            cached = self._cache.get(team_id)
        if cached is not None:
            return cached
        with database.reading() as session:
            return self.in_session(session, team_id)

    def in_session(self, session: Session, team_id: str) -> str:
        """As `of`, read with `session` when not cached (the caller's open transaction)."""
        with self._lock:
            cached = self._cache.get(team_id)
        if cached is not None:
            return cached
        language = workspace_language(session=session, team_id=team_id, default=self.default)
        with self._lock:
            self._cache[team_id] = language
        return language

    def changed(self, team_id: str, language: str) -> None:
        with self._lock:
            self._cache[team_id] = language

    def channel_speech(self, database: Database, team_id: str) -> Speech:
        """What a channel of the workspace reads."""
        return speech(self.of(database, team_id))

    def reader_speech(self, database: Database, team_id: str, locale: str | None) -> Speech:
        """What a person with Slack's `locale` reads; the workspace's when it isn't shipped."""
        return speech(negotiate(locale, self.of(database, team_id)))
