"""The mission and its principles: synchronising the file into a workspace and looking them up.

Plain Python over a SQLAlchemy session; the Slack listeners and the CLI both call in here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from cachetools import TTLCache
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.dialect import lock_transaction
from bot.db.engine import Database
from bot.db.models import Clock, Mission, Principle, utcnow
from bot.errors import UnknownPrinciple
from bot.home.versions import bump_workspace
from bot.i18n.speech import N_
from bot.mission.file import MissionDocument, PrincipleSpec, name_key
from bot.text import numeric

log = logging.getLogger(__name__)

SUGGESTION_CUTOFF = 60
MAX_SUGGESTIONS = 3
# The catalog changes only when the mission file is synchronised (at start, by this process);
# the TTL bounds how long another process's sync may go unseen here.
CATALOG_CACHE_SECONDS = 60
# The group of the principles that have no category, and how `/mission <category>` names it.
UNCATEGORISED = N_("More principles")


@dataclass(frozen=True, slots=True)
class PrincipleInfo:
    """A principle as shown to people; `number` is its place among the active principles."""

    id: int
    key: str
    title: str
    description: str | None
    category: str | None
    emoji: str | None
    number: int | None
    # More emoji codes (":bullseye:") that mean this principle as a reaction.
    aliases: tuple[str, ...] = ()
    # (language, title, description) in every other language the mission file gives; in a
    # catalog put into another language (`Catalog.in_language`), the original is one of them.
    translations: tuple[tuple[str, str, str | None], ...] = ()

    @property
    def reactions(self) -> tuple[str, ...]:
        """The reaction names (emoji without colons) that give kudos for this principle."""
        codes = ((self.emoji,) if self.emoji else ()) + self.aliases
        return tuple(code.strip(":") for code in codes)

    @property
    def titles(self) -> tuple[str, ...]:
        """Its title in every language it has: each matches `#word` and `/mission word`."""
        return tuple(dict.fromkeys((self.title, *(title for _l, title, _d in self.translations))))

    def in_language(self, language: str, own: str | None = None) -> PrincipleInfo:
        """This principle as a reader of `language` sees it (the file's own text where it has
        no translation). With `own` (the file's language), its translations then hold every
        other language, `own` too, so that the original title still matches."""
        for code, title, description in self.translations:
            if code == language:
                others = tuple(t for t in self.translations if t[0] != language)
                original = ((own, self.title, self.description),) if own else ()
                return replace(
                    self,
                    title=title,
                    description=description if description is not None else self.description,
                    translations=(*original, *others),
                )
        return self


@dataclass(frozen=True, slots=True)
class Catalog:
    """A workspace's mission statement and active principles in file order."""

    statement: str
    company: str | None
    principles: tuple[PrincipleInfo, ...]
    # The mission file's language, and its company line and statement in others:
    # (language, company, statement).
    language: str = "en"
    translations: tuple[tuple[str, str | None, str | None], ...] = ()

    def in_language(self, language: str) -> Catalog:
        """The catalog as a reader of `language` sees it: the statement and each principle's
        title and description translated where the mission file translates them. Keys,
        numbers, emoji and categories stay; translated titles still match in `resolve`."""
        if language == self.language:
            return self
        company, statement = self.company, self.statement
        for code, their_company, their_statement in self.translations:
            if code == language:
                company = their_company or company
                statement = their_statement or statement
        return replace(
            self,
            company=company,
            statement=statement,
            principles=tuple(p.in_language(language, self.language) for p in self.principles),
            language=language,
        )

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.principles]

    def by_reaction(self, name: str) -> PrincipleInfo | None:
        """The active principle a reaction (`dart`, `+1::skin-tone-2`) stands for, if any: an
        emoji two principles share (the mission file warns of it) stands for neither."""
        plain = name.split("::", 1)[0].strip(":")
        meaning = [p for p in self.principles if plain in p.reactions]
        return meaning[0] if len(meaning) == 1 else None

    def by_category(self) -> list[tuple[str | None, list[PrincipleInfo]]]:
        """Principles grouped by category, groups in order of first appearance."""
        groups: dict[str | None, list[PrincipleInfo]] = {}
        for principle in self.principles:
            groups.setdefault(principle.category, []).append(principle)
        return list(groups.items())

    def category(self, name: str) -> tuple[str, list[PrincipleInfo]] | None:
        """The category called `name` (case and spacing ignored) with its principles."""
        wanted = name_key(name)
        for category, principles in self.by_category():
            if name_key(category or UNCATEGORISED) == wanted:
                return category or UNCATEGORISED, principles
        return None

    def search(self, typed: str, limit: int) -> list[PrincipleInfo]:
        """Principles for what someone typed into a menu, best first: an exact number or key;
        numbers, keys and titles that start with it; titles and categories that contain it;
        then those where each typed word starts a word of the number, key, title or category.
        Nothing typed: the first `limit`, in order."""
        query = name_key(typed.replace("#", " "))
        if not query:
            return list(self.principles[:limit])
        words = query.split()
        ranked: list[tuple[int, int, PrincipleInfo]] = []
        for position, principle in enumerate(self.principles):
            number = str(principle.number or "")
            titles = [name_key(title) for title in principle.titles]
            category = name_key(principle.category or "")
            vocabulary = re.split(
                r"[^\w]+", f"{number} {principle.key} {' '.join(titles)} {category}"
            )
            if query in {number, principle.key}:
                rank = 0
            elif any(name.startswith(query) for name in (number, principle.key, *titles)):
                rank = 1
            elif any(query in title for title in titles) or query in category:
                rank = 2
            elif all(any(known.startswith(word) for known in vocabulary) for word in words):
                rank = 3
            else:
                continue
            ranked.append((rank, position, principle))
        ranked.sort(key=lambda entry: entry[:2])
        return [principle for _rank, _position, principle in ranked[:limit]]

    def resolve(self, reference: str) -> PrincipleInfo:
        """Find a principle by `key`, `#key`, number, or an unambiguous fuzzy title match."""
        wanted = reference.strip().removeprefix("#").strip()
        lowered = wanted.lower()
        digits = numeric(lowered)
        if digits.isascii() and digits.isdigit():
            number = int(digits)
            if 1 <= number <= len(self.principles):
                return self.principles[number - 1]
        for principle in self.principles:
            if principle.key == lowered or lowered in (t.lower() for t in principle.titles):
                return principle
        raise UnknownPrinciple(wanted, self.suggest(wanted), self.keys)

    def suggest(self, reference: str) -> list[str]:
        """Keys of the principles whose key or title is closest to `reference`."""
        if not reference:
            return []
        # One choice per title and language, so a translation doesn't dilute the match.
        choices = {
            (p.key, n): f"{p.key} {title}".lower()
            for p in self.principles
            for n, title in enumerate(p.titles)
        }
        matches = process.extract(
            reference.lower(),
            choices,
            scorer=fuzz.WRatio,
            limit=MAX_SUGGESTIONS * 6,
            score_cutoff=SUGGESTION_CUTOFF,
        )
        keys = dict.fromkeys(key for _choice, _score, (key, _n) in matches)
        return list(keys)[:MAX_SUGGESTIONS]


@dataclass(slots=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    statement: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything people see changed (not only the order of principles)."""
        return bool(self.added or self.updated or self.retired or self.restored or self.statement)


def sync_mission(
    session: Session, *, team_id: str, document: MissionDocument, now: dt.datetime | None = None
) -> SyncReport:
    """Make the workspace's mission and principles match the file; retire what it dropped."""
    now = now or utcnow()
    # Two processes starting together would both insert the same keys; take turns per team.
    lock_transaction(session, team_id)
    report = SyncReport()
    mission = session.get(Mission, team_id)
    wanted = {
        "statement": document.statement,
        "company": document.company,
        "language": document.language,
        "translations": _mission_json(document),
    }
    if mission is None:
        session.add(Mission(team_id=team_id, updated_at=now, **wanted))
    else:
        for column, text in wanted.items():
            if getattr(mission, column) != text:
                setattr(mission, column, text)
                report.statement = True

    existing = {
        p.key: p for p in session.scalars(select(Principle).where(Principle.team_id == team_id))
    }
    for position, spec in enumerate(document.principles, start=1):
        row = existing.pop(spec.key, None)
        values: dict[str, object] = {
            "title": spec.title,
            "description": spec.description,
            "category": spec.category,
            "emoji": spec.emoji,
            "aliases": " ".join(spec.aliases) or None,
            "translations": _principle_json(spec),
            "position": position,
        }
        if row is None:
            session.add(Principle(team_id=team_id, key=spec.key, created_at=now, **values))
            report.added.append(spec.key)
            continue
        if row.retired_at is not None:
            row.retired_at = None
            report.restored.append(spec.key)
        changed = {name: value for name, value in values.items() if getattr(row, name) != value}
        for name, value in changed.items():
            setattr(row, name, value)
        if set(changed) - {"position"}:
            report.updated.append(spec.key)
    for key, row in existing.items():
        if row.retired_at is None:
            row.retired_at = now
            report.retired.append(key)
    session.flush()
    if report.changed:
        # Every App Home shows the mission and its principles.
        bump_workspace(session, team_id=team_id)
    return report


def _mission_json(document: MissionDocument) -> str | None:
    texts = {
        language: {"company": text.company, "mission": text.statement}
        for language, text in document.translations
    }
    return json.dumps(texts, ensure_ascii=False, sort_keys=True) if texts else None


def _principle_json(spec: PrincipleSpec) -> str | None:
    texts = {
        language: {"title": text.title, "description": text.description}
        for language, text in spec.translations
    }
    return json.dumps(texts, ensure_ascii=False, sort_keys=True) if texts else None


def _stored(value: str | None) -> dict[str, dict[str, str | None]]:
    """A stored translations column; one that can't be read (edited by hand) counts as none."""
    if not value:
        return {}
    try:
        loaded = json.loads(value)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def load_catalog(session: Session, *, team_id: str) -> Catalog:
    mission = session.get(Mission, team_id)
    rows = session.scalars(
        select(Principle)
        .where(Principle.team_id == team_id, Principle.retired_at.is_(None))
        .order_by(Principle.position)
    ).all()
    principles = tuple(numbered(rows).values())
    texts = _stored(mission.translations if mission else None)
    return Catalog(
        statement=mission.statement if mission else "",
        company=mission.company if mission else None,
        principles=principles,
        language=(mission.language if mission else None) or "en",
        translations=tuple(
            (language, text.get("company"), text.get("mission")) for language, text in texts.items()
        ),
    )


def numbered(rows: Sequence[Principle]) -> dict[int, PrincipleInfo]:
    """The rows as PrincipleInfo by id, in the order given, numbered as the catalog numbers
    them: the active ones 1, 2, … by position; retired ones have no number."""
    active = sorted((row for row in rows if row.retired_at is None), key=lambda row: row.position)
    numbers = {row.id: number for number, row in enumerate(active, start=1)}
    return {row.id: _info(row, numbers.get(row.id)) for row in rows}


def principle_info(principle: Principle, number: int | None = None) -> PrincipleInfo:
    return _info(principle, number)


def _info(row: Principle, number: int | None) -> PrincipleInfo:
    return PrincipleInfo(
        id=row.id,
        key=row.key,
        title=row.title,
        description=row.description,
        category=row.category,
        emoji=row.emoji,
        number=number,
        aliases=tuple((row.aliases or "").split()),
        translations=stored_translations(row.title, row.translations),
    )


def stored_translations(title: str, value: str | None) -> tuple[tuple[str, str, str | None], ...]:
    """A principle's `translations` column as `PrincipleInfo.translations`."""
    return tuple(
        (language, str(text.get("title") or title), text.get("description"))
        for language, text in _stored(value).items()
    )


def known_teams(session: Session) -> list[str]:
    return list(session.scalars(select(Mission.team_id).order_by(Mission.team_id)))


class MissionKeeper:
    """Keeps every workspace this process serves in step with the mission file.

    A workspace is synchronised the first time a request from it arrives, and all known
    workspaces at start-up, so that edits to the file take effect on restart. It also keeps
    each workspace's `Catalog` for a minute: `/mission` and `/kudos` read it on every request.
    """

    def __init__(self, document: MissionDocument, clock: Clock = utcnow) -> None:
        self.document = document
        self._clock = clock
        self._synced: set[str] = set()
        self._lock = threading.Lock()
        self._catalogs: TTLCache[tuple[str, str | None], Catalog] = TTLCache(
            1000, CATALOG_CACHE_SECONDS
        )
        self._catalog_lock = threading.Lock()

    def catalog(self, database: Database, team_id: str, language: str | None = None) -> Catalog:
        """The workspace's catalog, from the cache when it is fresh; with `language`, as a
        reader of that language sees it (kept too, so a lookup costs no translating)."""
        key = (team_id, language)
        with self._catalog_lock:
            cached = self._catalogs.get(key)
        if cached is not None:
            return cached
        if language is not None:
            catalog = self.catalog(database, team_id).in_language(language)
        else:
            with database.transaction() as session:
                catalog = load_catalog(session, team_id=team_id)
        with self._catalog_lock:
            self._catalogs[key] = catalog
        return catalog

    def ensure_synced(self, database: Database, team_id: str) -> None:
        if team_id in self._synced:
            return
        with self._lock:
            if team_id in self._synced:
                return
            with database.transaction() as session:
                report = sync_mission(
                    session, team_id=team_id, document=self.document, now=self._clock()
                )
            self._synced.add(team_id)
            with self._catalog_lock:
                for key in [key for key in self._catalogs if key[0] == team_id]:
                    self._catalogs.pop(key, None)
        log.info(
            "mission synced team=%s added=%d updated=%d retired=%d restored=%d",
            team_id,
            len(report.added),
            len(report.updated),
            len(report.retired),
            len(report.restored),
        )

    def sync_known(self, database: Database, extra_teams: Iterable[str] = ()) -> None:
        with database.transaction() as session:
            teams = set(known_teams(session))
        for team_id in sorted(teams | set(extra_teams)):
            self.ensure_synced(database, team_id)
