"""The mission file: YAML in, a validated `MissionDocument` out, or errors naming file and line.

Pure Python and free of Slack and the database, so `missionbot mission check` and the
start-up sync share one reading of the file.

A file that passes can be stored and shown: every limit the bot relies on is checked here,
the database's column sizes (bot/db/models.py), the characters PostgreSQL refuses, and the
names `/mission` must tell apart. Slack's own display limits are not: where Slack clips a
text (an option's 75 characters, a header's 150), the bot clips it when drawing, so a long
title is shown shortened in the kudos form rather than refused here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.i18n.catalogs import SHIPPED_LANGUAGES
from bot.i18n.negotiate import normalise

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
EMOJI_PATTERN = re.compile(r"^:[a-z0-9_+\-']+:$")
# The column sizes of bot/db/models.py: a longer text would break every command on PostgreSQL.
MAX_COMPANY_LENGTH = 200
MAX_KEY_LENGTH = 40
MAX_TITLE_LENGTH = 100
MAX_CATEGORY_LENGTH = 40
MAX_EMOJI_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 2000
MAX_STATEMENT_LENGTH = 2000
# The principle of the day takes each principle in turn: 250 is about a year of working days,
# so each still comes round once a year. It also keeps the `/mission` category overview in
# one message and a report's principle lines within one message's 50 blocks.
MAX_PRINCIPLES = 250
# PostgreSQL can't store NUL in text, and a lone surrogate can't be encoded as UTF-8 at all;
# the other control characters are invisible or garble Slack's display.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
LINE_BREAKS = re.compile(r"[\n\t\u2028\u2029]")

TOP_LEVEL_FIELDS = {"company", "mission", "principles", "language", "translations"}
PRINCIPLE_FIELDS = {"key", "title", "description", "category", "emoji", "aliases", "translations"}
MISSION_TRANSLATION_FIELDS = {"company", "mission"}
PRINCIPLE_TRANSLATION_FIELDS = {"title", "description"}
# More emoji a principle may be given by as a reaction (bot/kudos/reactions.py).
MAX_ALIASES = 10


@dataclass(frozen=True, slots=True)
class PrincipleText:
    """A principle's title and description in another language."""

    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class MissionText:
    """The company line and mission statement in another language (either may be missing)."""

    company: str | None = None
    statement: str | None = None


@dataclass(frozen=True, slots=True)
class PrincipleSpec:
    key: str
    title: str
    description: str | None = None
    category: str | None = None
    emoji: str | None = None
    aliases: tuple[str, ...] = ()
    # By shipped language (`de`, `pt_BR`); keys, emoji and categories stay the same.
    translations: tuple[tuple[str, PrincipleText], ...] = ()

    @property
    def reactions(self) -> tuple[str, ...]:
        """Every emoji that means this principle: its own, then its aliases."""
        return ((self.emoji,) if self.emoji else ()) + self.aliases


@dataclass(frozen=True, slots=True)
class MissionDocument:
    statement: str
    principles: tuple[PrincipleSpec, ...]
    company: str | None = None
    # What the file still serves with but should change (`mission check` and start-up say so).
    warnings: tuple[str, ...] = ()
    # The language the file is written in, and its translations by shipped language.
    language: str = "en"
    translations: tuple[tuple[str, MissionText], ...] = ()


class MissionFileError(Exception):
    """The file can't be used; `problems` holds one line per problem found."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(problems))


class _LineDict(dict[Any, Any]):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of each mapping so that errors can point into the file."""


def _construct_line_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_line_mapping)


def load_mission_file(path: Path | str) -> MissionDocument:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MissionFileError(path, [f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MissionFileError(path, [f"{path}: cannot be read ({exc})"]) from None
    return parse_mission(text, source=str(path))


# Remembered by text (a document is immutable): PyYAML's pure-Python parser takes 7 ms for the
# example mission and 0.1 s for 250 principles, and the tests build the bot from the same few
# files over a thousand times. A changed file is a new text and is read again.
@functools.lru_cache(maxsize=8)
def parse_mission(text: str, *, source: str = "<mission>") -> MissionDocument:
    try:
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise MissionFileError(source, [f"{where}: YAML syntax error: {problem}"]) from None
    return _validate(raw, source)


def _validate(raw: Any, source: str) -> MissionDocument:
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise MissionFileError(
            source, [f"{source}: expected a mapping with 'mission' and 'principles'"]
        )
    for field in sorted(set(raw) - TOP_LEVEL_FIELDS, key=str):
        problems.append(f"{source}: unknown field {field!r} (expected {_names(TOP_LEVEL_FIELDS)})")

    statement = raw.get("mission")
    if not isinstance(statement, str) or not statement.strip():
        problems.append(f"{source}: 'mission' must be the mission statement, a non-empty text")
        statement = ""
    elif len(statement.strip()) > MAX_STATEMENT_LENGTH:
        problems.append(f"{source}: 'mission' is longer than {MAX_STATEMENT_LENGTH} characters")
    else:
        _check_characters(statement, "'mission'", source, problems, multiline=True)
    company = raw.get("company")
    if company is not None and not isinstance(company, str):
        problems.append(f"{source}: 'company' must be text")
        company = None
    elif company is not None:
        if len(company) > MAX_COMPANY_LENGTH:
            problems.append(f"{source}: 'company' is longer than {MAX_COMPANY_LENGTH} characters")
        _check_characters(company, "'company'", source, problems, multiline=False)

    language = _file_language(raw.get("language"), source, problems)
    translations = _mission_translations(raw.get("translations"), language, source, problems)

    items = raw.get("principles")
    principles: list[PrincipleSpec] = []
    if not isinstance(items, list) or not items:
        problems.append(f"{source}: 'principles' must be a non-empty list")
        items = []
    if len(items) > MAX_PRINCIPLES:
        line = getattr(items[MAX_PRINCIPLES], "line", None)
        problems.append(
            f"{source}{f':{line}' if line else ''}: principle {MAX_PRINCIPLES + 1}: "
            f"there are {len(items)} principles; at most {MAX_PRINCIPLES} are allowed"
        )
    seen: dict[str, int] = {}
    for index, item in enumerate(items, start=1):
        spec = _validate_principle(item, index, source, seen, problems, language)
        if spec is not None:
            principles.append(spec)
    _check_category_names(items, principles, source, problems)
    warnings = _shared_emoji(items, principles, source)
    warnings += _missing_translations(items, principles, translations, source)

    if problems:
        raise MissionFileError(source, problems)
    return MissionDocument(
        statement=statement.strip(),
        principles=tuple(principles),
        company=company,
        warnings=tuple(warnings),
        language=language,
        translations=tuple(translations.items()),
    )


def _file_language(value: Any, source: str, problems: list[str]) -> str:
    """The file's own language: any language tag (`en`, `nl`, `pt-BR`), kept as `pt_BR`."""
    if value is None:
        return "en"
    parsed = normalise(value) if isinstance(value, str) else None
    if parsed is None:
        problems.append(f"{source}: 'language' must be a language code like 'en', 'de' or 'pt-BR'")
        return "en"
    language, region = parsed
    return f"{language}_{region}" if region else language


def _translation_language(
    value: Any, own: str, where: str, label: str, problems: list[str]
) -> str | None:
    """A translation's language: one the bot speaks (a reader can only be given those)."""
    parsed = normalise(value) if isinstance(value, str) else None
    code = f"{parsed[0]}_{parsed[1]}" if parsed and parsed[1] else parsed[0] if parsed else None
    if code not in SHIPPED_LANGUAGES:
        problems.append(
            f"{where}: {label}translations: {str(value)!r} is not a language the bot speaks "
            f"({', '.join(SHIPPED_LANGUAGES)})"
        )
        return None
    if code == own:
        problems.append(
            f"{where}: {label}translations: {code!r} is the file's own language; "
            "write it in the fields themselves"
        )
        return None
    return code


def _translation_entries(
    value: dict[Any, Any],
    own: str,
    where: str,
    prefix: str,
    allowed: Set[str],
    expected: str,
    problems: list[str],
) -> Iterator[tuple[str, str, dict[Any, Any]]]:
    """Each usable entry of a `translations:` mapping, as (language, its label for messages,
    its fields): a language the bot speaks, other than the file's own, mapped to a mapping;
    what isn't is a problem, and an unknown field is one too (its known fields still count)."""
    for code, fields in value.items():
        language = _translation_language(code, own, where, prefix, problems)
        if language is None:
            continue
        label = f"{prefix}translations: {language}"
        if not isinstance(fields, dict):
            problems.append(f"{where}: {label} must be a mapping with {expected}")
            continue
        for field in sorted(set(fields) - allowed, key=str):
            problems.append(
                f"{where}: {label}: unknown field {field!r} (expected {_names(allowed)})"
            )
        yield language, label, fields


def _mission_translations(
    value: Any, own: str, source: str, problems: list[str]
) -> dict[str, MissionText]:
    """`translations: {de: {company: …, mission: …}}` at the top of the file."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{source}: 'translations' must map a language to company and mission")
        return {}
    found: dict[str, MissionText] = {}
    for language, label, fields in _translation_entries(
        value, own, source, "", MISSION_TRANSLATION_FIELDS, "company and mission", problems
    ):
        company = _optional_text(fields, "company", MAX_COMPANY_LENGTH, source, label, problems)
        statement = _optional_text(
            fields, "mission", MAX_STATEMENT_LENGTH, source, label, problems, multiline=True
        )
        found[language] = MissionText(company=company, statement=statement)
    return found


def _principle_translations(
    value: Any, own: str, where: str, label: str, problems: list[str]
) -> tuple[tuple[str, PrincipleText], ...]:
    """A principle's `translations: {de: {title: …, description: …}}`, with the same limits
    as the original's."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        problems.append(
            f"{where}: {label}: translations must map a language to title and description"
        )
        return ()
    found: list[tuple[str, PrincipleText]] = []
    for language, inner, fields in _translation_entries(
        value,
        own,
        where,
        f"{label}: ",
        PRINCIPLE_TRANSLATION_FIELDS,
        "title and description",
        problems,
    ):
        before = len(problems)
        title = _optional_text(fields, "title", MAX_TITLE_LENGTH, where, inner, problems)
        if title is None and len(problems) == before:
            problems.append(f"{where}: {inner}: title must not be empty")
        description = _optional_text(
            fields, "description", MAX_DESCRIPTION_LENGTH, where, inner, problems, multiline=True
        )
        if title is None:
            continue
        found.append((language, PrincipleText(title=title, description=description)))
    return tuple(found)


def _missing_translations(
    items: list[Any],
    principles: list[PrincipleSpec],
    translations: dict[str, MissionText],
    source: str,
) -> list[str]:
    """One warning per principle and language the file translates into elsewhere but not
    there: a reader in that language sees that principle in the file's own language."""
    languages = set(translations)
    for spec in principles:
        languages.update(language for language, _text in spec.translations)
    ordered = [code for code in SHIPPED_LANGUAGES if code in languages]
    lines = {
        item.get("key"): getattr(item, "line", None) for item in items if isinstance(item, dict)
    }
    warnings = []
    for language in ordered:
        text = translations.get(language)
        if text is None or text.statement is None:
            warnings.append(f"{source}: the mission has no {language!r} translation")
        for spec in principles:
            if language in {code for code, _text in spec.translations}:
                continue
            line = lines.get(spec.key)
            warnings.append(
                f"{source}{f':{line}' if line else ''}: principle {spec.key!r} has no "
                f"{language!r} translation"
            )
    return warnings


def _validate_principle(
    item: Any, index: int, source: str, seen: dict[str, int], problems: list[str], language: str
) -> PrincipleSpec | None:
    line = getattr(item, "line", None)
    where = f"{source}:{line}" if line else source
    if not isinstance(item, dict):
        problems.append(f"{where}: principle {index}: expected a mapping with key and title")
        return None
    key = item.get("key")
    label = f"principle {index} ({key!r})" if isinstance(key, str) else f"principle {index}"
    before = len(problems)
    for field in sorted(set(item) - PRINCIPLE_FIELDS, key=str):
        problems.append(
            f"{where}: {label}: unknown field {field!r} (expected {_names(PRINCIPLE_FIELDS)})"
        )
    if not isinstance(key, str) or not KEY_PATTERN.match(key) or len(key) > MAX_KEY_LENGTH:
        problems.append(
            f"{where}: {label}: key must be a slug of lowercase letters, digits and hyphens, "
            f"starting with a letter, at most {MAX_KEY_LENGTH} characters (like 'own-the-outcome')"
        )
    elif key in seen:
        problems.append(
            f"{where}: {label}: duplicate key {key!r} (first used by principle {seen[key]})"
        )
    else:
        seen[key] = index
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{where}: {label}: title must not be empty")
    elif "\n" in title.strip() or len(title.strip()) > MAX_TITLE_LENGTH:
        problems.append(
            f"{where}: {label}: title must be one line of at most {MAX_TITLE_LENGTH} characters"
        )
    else:
        _check_characters(title.strip(), f"{label}: title", where, problems, multiline=False)
    description = _optional_text(
        item, "description", MAX_DESCRIPTION_LENGTH, where, label, problems, multiline=True
    )
    category = _optional_text(item, "category", MAX_CATEGORY_LENGTH, where, label, problems)
    emoji = _optional_text(item, "emoji", MAX_EMOJI_LENGTH, where, label, problems)
    if emoji is not None and not EMOJI_PATTERN.match(emoji):
        problems.append(f"{where}: {label}: emoji must be a Slack emoji code like ':rocket:'")
    aliases = _aliases(item.get("aliases"), where, label, problems)
    translations = _principle_translations(
        item.get("translations"), language, where, label, problems
    )
    if len(problems) > before:
        return None
    assert isinstance(key, str)
    assert isinstance(title, str)
    return PrincipleSpec(
        key=key,
        title=title.strip(),
        description=description,
        category=category,
        emoji=emoji,
        aliases=aliases,
        translations=translations,
    )


def _aliases(value: Any, where: str, label: str, problems: list[str]) -> tuple[str, ...]:
    """A list of emoji codes (or one); each must look like ':rocket:'."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        problems.append(f"{where}: {label}: aliases must be a list of emoji like [':rocket:']")
        return ()
    codes = [item.strip() for item in items]
    bad = [code for code in codes if not EMOJI_PATTERN.match(code) or len(code) > 100]
    if bad:
        problems.append(
            f"{where}: {label}: alias {bad[0]!r} must be a Slack emoji code like ':rocket:'"
        )
        return ()
    if len(codes) > MAX_ALIASES:
        problems.append(f"{where}: {label}: at most {MAX_ALIASES} aliases")
        return ()
    return tuple(dict.fromkeys(codes))


def _shared_emoji(items: list[Any], principles: list[PrincipleSpec], source: str) -> list[str]:
    """An emoji two principles share can't say which one a reaction means: it gives no kudos
    by reaction (`MissionCatalog.by_reaction`). A warning, not an error: files that served
    before this was checked must still serve."""
    owner: dict[str, str] = {}
    lines = {
        item.get("key"): getattr(item, "line", None) for item in items if isinstance(item, dict)
    }
    warnings = []
    for spec in principles:
        for code in spec.reactions:
            first = owner.setdefault(code, spec.key)
            if first == spec.key:
                continue
            line = lines.get(spec.key)
            warnings.append(
                f"{source}{f':{line}' if line else ''}: principle {spec.key!r}: emoji {code} "
                f"also belongs to principle {first!r}; a reaction can mean only one principle, "
                "so it gives no kudos until each has its own"
            )
    return warnings


def _optional_text(
    item: dict[str, Any],
    field: str,
    limit: int,
    where: str,
    label: str,
    problems: list[str],
    *,
    multiline: bool = False,
) -> str | None:
    value = item.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{where}: {label}: {field} must be text")
        return None
    value = value.strip()
    if len(value) > limit:
        problems.append(f"{where}: {label}: {field} is longer than {limit} characters")
        return None
    if not _check_characters(value, f"{label}: {field}", where, problems, multiline=multiline):
        return None
    return value or None


def _check_characters(
    value: str, what: str, where: str, problems: list[str], *, multiline: bool
) -> bool:
    """False, with a problem naming the first offending character, if `value` can't be kept."""
    control = CONTROL_CHARACTERS.search(value)
    if control is not None:
        problems.append(
            f"{where}: {what} contains the control character U+{ord(control.group()):04X} "
            f"at character {control.start() + 1}; remove it"
        )
        return False
    line_break = None if multiline else LINE_BREAKS.search(value)
    if line_break is not None:
        problems.append(
            f"{where}: {what} must be one line (U+{ord(line_break.group()):04X} "
            f"at character {line_break.start() + 1})"
        )
        return False
    return True


def name_key(value: str) -> str:
    """How `/mission` compares a typed name with a category or title: case and spacing ignored."""
    return " ".join(value.casefold().split())


def _check_category_names(
    items: list[Any], principles: list[PrincipleSpec], source: str, problems: list[str]
) -> None:
    """A category must be reachable as `/mission <category>`, which looks for a principle
    first (number, key, title): a category named like one of those could never be listed."""
    taken: dict[str, str] = {}
    for number, spec in enumerate(principles, start=1):
        taken.setdefault(name_key(spec.key), f"the key of principle {number}")
        taken.setdefault(name_key(spec.title), f"the title of principle {number}")
    reported: set[str] = set()
    for index, item in enumerate(items, start=1):
        category = item.get("category") if isinstance(item, dict) else None
        if not isinstance(category, str) or not category.strip():
            continue
        name = name_key(category)
        clash = "a number" if name.isdigit() else taken.get(name)
        if clash is None or name in reported:
            continue
        reported.add(name)
        line = getattr(item, "line", None)
        key = item.get("key")
        label = f"principle {index} ({key!r})" if isinstance(key, str) else f"principle {index}"
        problems.append(
            f"{source}{f':{line}' if line else ''}: {label}: category {category.strip()!r} is "
            f"{clash}, and `/mission {category.strip()}` shows a principle before a category; "
            "rename the category"
        )


def _names(fields: Set[str]) -> str:
    return ", ".join(sorted(fields))


def summarize(document: MissionDocument) -> str:
    """A short human summary for `missionbot mission check`."""
    categories = {p.category for p in document.principles if p.category}
    name = f"{document.company}: " if document.company else ""
    return (
        f"{name}mission statement of {len(document.statement)} characters, "
        f"{len(document.principles)} principles in {len(categories)} categories"
    )
