"""The mission file: YAML in, a validated `MissionDocument` out, or errors naming file and line.

Pure Python and free of Slack and the database, so `missionbot mission check` and the
start-up sync share one reading of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
EMOJI_PATTERN = re.compile(r"^:[a-z0-9_+\-']+:$")
MAX_KEY_LENGTH = 40
# Block Kit caps an option's text at 75 characters and the kudos modal lists titles as options.
MAX_TITLE_LENGTH = 75
MAX_DESCRIPTION_LENGTH = 2000
MAX_STATEMENT_LENGTH = 2000
MAX_CATEGORY_LENGTH = 40

TOP_LEVEL_FIELDS = {"company", "mission", "principles"}
PRINCIPLE_FIELDS = {"key", "title", "description", "category", "emoji"}


@dataclass(frozen=True, slots=True)
class PrincipleSpec:
    key: str
    title: str
    description: str | None = None
    category: str | None = None
    emoji: str | None = None


@dataclass(frozen=True, slots=True)
class MissionDocument:
    statement: str
    principles: tuple[PrincipleSpec, ...]
    company: str | None = None


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
    company = raw.get("company")
    if company is not None and not isinstance(company, str):
        problems.append(f"{source}: 'company' must be text")
        company = None

    items = raw.get("principles")
    principles: list[PrincipleSpec] = []
    if not isinstance(items, list) or not items:
        problems.append(f"{source}: 'principles' must be a non-empty list")
        items = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items, start=1):
        spec = _validate_principle(item, index, source, seen, problems)
        if spec is not None:
            principles.append(spec)

    if problems:
        raise MissionFileError(source, problems)
    return MissionDocument(
        statement=statement.strip(), principles=tuple(principles), company=company
    )


def _validate_principle(
    item: Any, index: int, source: str, seen: dict[str, int], problems: list[str]
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
    description = _optional_text(
        item, "description", MAX_DESCRIPTION_LENGTH, where, label, problems
    )
    category = _optional_text(item, "category", MAX_CATEGORY_LENGTH, where, label, problems)
    emoji = _optional_text(item, "emoji", 100, where, label, problems)
    if emoji is not None and not EMOJI_PATTERN.match(emoji):
        problems.append(f"{where}: {label}: emoji must be a Slack emoji code like ':rocket:'")
    if len(problems) > before:
        return None
    assert isinstance(key, str)
    assert isinstance(title, str)
    return PrincipleSpec(
        key=key, title=title.strip(), description=description, category=category, emoji=emoji
    )


def _optional_text(
    item: dict[str, Any], field: str, limit: int, where: str, label: str, problems: list[str]
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
    return value or None


def _names(fields: set[str]) -> str:
    return ", ".join(sorted(fields))


def summarize(document: MissionDocument) -> str:
    """A short human summary for `missionbot mission check`."""
    categories = {p.category for p in document.principles if p.category}
    name = f"{document.company}: " if document.company else ""
    return (
        f"{name}mission statement of {len(document.statement)} characters, "
        f"{len(document.principles)} principles in {len(categories)} categories"
    )
