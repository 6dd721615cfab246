"""Whether the console's database is already at the newest migration, asked without Alembic.

Importing Alembic (and the Mako and Pygments it pulls in) is a fifth of the console's start;
on every start but the first the answer is "nothing to migrate". So the head revision is
read from the migration files themselves (`revision = "…"`, `down_revision = "…"`) and
compared with the database's `alembic_version`. Anything unexpected (no table, several
heads, a file that doesn't read) answers False, and the runtime migrates as `serve` does.
"""

from __future__ import annotations

import re
from importlib import resources

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.db.engine import Database

_REVISION = re.compile(r"^revision(?:\s*:\s*[\w| ]+)?\s*=\s*[\"'](\w+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:\s*:\s*[\w| ]+)?\s*=\s*[\"'](\w+)[\"']", re.MULTILINE)


def head_revision() -> str | None:
    """The one revision no other migration builds on, or None if that isn't clear."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for entry in resources.files("bot.migrations.versions").iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("__"):
            continue
        source = entry.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            return None
        revisions.add(found[1])
        parents.update(match[1] for match in _DOWN.finditer(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def is_current(database: Database) -> bool:
    head = head_revision()
    if head is None:
        return False
    try:
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return False  # a new database: no table yet
    return [row[0] for row in rows] == [head]
