"""Running the Alembic migrations from the bot: `missionbot db upgrade` and `serve` at start.

On PostgreSQL a session-level advisory lock makes two processes that start together take
turns: the second waits (polling, outside any transaction), then finds nothing left to do.

Alembic's settings are built here, not read from alembic.ini: an installed wheel has no
alembic.ini, and its migrations are the package `bot.migrations` (the repository's top-level
`migrations/` folder, mapped in pyproject.toml). alembic.ini serves only `alembic` run by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from bot.db.engine import Database, DeadlineConnection

log = logging.getLogger(__name__)

# Any constant works; this one spells "missionb" so it is recognisable in pg_locks.
MIGRATION_LOCK_ID = 0x6D697373696F6E62
LOCK_POLL_S = 0.2
MIGRATION_ANSWER_TIMEOUT_S = 3600.0


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # Wherever the package is: site-packages for a wheel, the repository for `pip install -e`.
    # `%` is configparser's interpolation mark, so it is doubled in the path.
    location = str(resources.files("bot.migrations")).replace("%", "%%")
    config.set_main_option("script_location", location)
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(
    database: Database, revision: str = "head", *, attributes: Mapping[str, Any] | None = None
) -> None:
    """Upgrade to `revision`; `attributes`: put in the alembic config's (a migration reads
    them through `context.config.attributes`, as tests and benches tune a fill)."""
    with database.engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            _take_turn(connection)
        try:
            with _patient(connection):
                config = alembic_config(connection)
                config.attributes.update(attributes or {})
                command.upgrade(config, revision)
            connection.commit()
        finally:
            if postgres:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
                connection.commit()
    log.info("database schema is at %s", revision)


@contextmanager
def _patient(connection: Connection) -> Iterator[None]:
    """No request-path deadline (bot/db/engine.py waits 10 s for PostgreSQL's answer): a
    migration building an index on ten million rows takes minutes."""
    driver = connection.connection.driver_connection
    if not isinstance(driver, DeadlineConnection):
        yield
        return
    with driver.patient(MIGRATION_ANSWER_TIMEOUT_S):
        yield


def _take_turn(connection: Connection) -> None:
    """The migration lock, tried between pauses rather than waited for: a process waiting
    inside a statement keeps a snapshot open, and a migration building an index CONCURRENTLY
    (0014) waits for every older snapshot to end, a deadlock with the process it holds off."""
    while True:
        taken = connection.scalar(
            text("SELECT pg_try_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID}
        )
        connection.commit()
        if taken:
            return
        time.sleep(LOCK_POLL_S)


def downgrade(database: Database, revision: str) -> None:
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), revision)
        connection.commit()
