"""Whose language: a person's (what only they read), the workspace's (what a channel reads).

A person reads in their Slack locale (`people.locale`, filled with `include_locale=true`),
negotiated to a shipped language, else the workspace's. A channel reads in the workspace
language: `workspace_settings.language` (`/kudos settings language de`), else
`MISSIONBOT_LANGUAGE`. Never the language of whoever caused a post: a German giver's kudos is
announced to an English channel in English.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import Person, WorkspaceSettings
from bot.errors import UserError
from bot.i18n.catalogs import SHIPPED_LANGUAGES
from bot.i18n.negotiate import negotiate
from bot.i18n.speech import N_
from bot.text import escape

LANGUAGE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
    "ja": "日本語",
}
NOT_SHIPPED = N_(
    "The bot doesn't speak `{language}` yet. Choose one of: {languages}. Nothing was changed."
)


def workspace_language(*, session: Session, team_id: str, default: str) -> str:
    """What the workspace's channels read in."""
    chosen = session.scalar(
        select(WorkspaceSettings.language).where(WorkspaceSettings.team_id == team_id)
    )
    return chosen or default


def person_language(*, session: Session, team_id: str, user_id: str, fallback: str) -> str:
    """What a person reads in: their Slack locale if the bot speaks it, else `fallback`."""
    locale = session.scalar(
        select(Person.locale).where(Person.team_id == team_id, Person.user_id == user_id)
    )
    return negotiate(locale, fallback)


def shipped_list() -> str:
    return ", ".join(f"`{code}` ({LANGUAGE_NAMES[code]})" for code in SHIPPED_LANGUAGES)


def change_language(
    *, session: Session, team_id: str, user_id: str, language: str, now: dt.datetime
) -> str:
    """Set the workspace language (`de`, `pt-BR`, `pt_BR`); refused, with the list, if the
    bot doesn't ship it."""
    chosen = negotiate(language, fallback="")
    if not chosen:
        fields = {"language": escape(language[:20]), "languages": shipped_list()}
        raise UserError(NOT_SHIPPED, fields=fields)
    values: dict[str, object] = {"language": chosen, "updated_by": user_id, "updated_at": now}
    insert = dialect_insert(session)
    statement = insert(WorkspaceSettings).values(team_id=team_id, **values)
    session.execute(
        statement.on_conflict_do_update(index_elements=[WorkspaceSettings.team_id], set_=values)
    )
    return chosen
