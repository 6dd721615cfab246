"""The migrations build exactly the models' schema, both ways, on both databases."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.db.engine import Database
from bot.db.migrate import downgrade, upgrade
from bot.db.models import Base


def differences(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def tables(database: Database) -> set[str]:
    return set(inspect(database.engine).get_table_names()) - {"alembic_version"}


def test_migrated_schema_matches_the_models(fresh_url: str) -> None:
    database = Database(fresh_url)
    upgrade(database)
    assert differences(database) == []
    assert tables(database) == set(Base.metadata.tables)
    database.dispose()


def test_upgrade_downgrade_upgrade(fresh_url: str) -> None:
    database = Database(fresh_url)
    upgrade(database)
    downgrade(database, "base")
    assert tables(database) == set()
    upgrade(database)
    assert differences(database) == []
    database.dispose()


def test_two_processes_migrating_at_once_take_turns(fresh_url: str) -> None:
    if fresh_url.startswith("sqlite"):
        pytest.skip("the advisory lock is PostgreSQL's; SQLite serialises writers itself")
    databases = [Database(fresh_url) for _ in range(3)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(databases))

    def migrate(database: Database) -> None:
        start.wait()
        try:
            upgrade(database)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "migrations deadlocked"
    assert errors == []
    assert differences(databases[0]) == []
    for database in databases:
        database.dispose()
