"""The shape every read-model migration's test shares: a database left at the previous
revision, filled as the old release would, then the migration up, down and up again, with
the test's own check after each step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot.db.engine import Database
from bot.db.migrate import downgrade, upgrade


@contextmanager
def database_at(url: str, revision: str) -> Iterator[Database]:
    """A database at `url` migrated to `revision` only (as the previous release left it)."""
    database = Database(url)
    try:
        upgrade(database, revision)
        yield database
    finally:
        database.dispose()


def up_down_up(
    database: Database,
    revision: str,
    check: Callable[[], None],
    *,
    check_down: Callable[[], None] | None = None,
) -> None:
    """Upgrade to head, `check`; downgrade to `revision` (`check_down`); upgrade, `check`."""
    upgrade(database)
    check()
    downgrade(database, revision)
    if check_down is not None:
        check_down()
    upgrade(database)
    check()
