"""The migrations build exactly the models' schema, both ways, on both databases."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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


def test_upgrading_keeps_every_kudos_and_marks_it_unknown(fresh_url: str) -> None:
    """Kudos from before audiences were recorded count as private: never quoted elsewhere."""
    database = Database(fresh_url)
    upgrade(database, "0002")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO principles (id, team_id, key, title, position, created_at, updated_at)"
                " VALUES (1, 'T1', 'k', 'K', 1, :at, :at)"
            ),
            {"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        )
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO kudos (team_id, group_id, giver_id, receiver_id, principle_id,"
                    " message, channel_id, source, created_at)"
                    " VALUES ('T1', :group, 'UA', 'UB', 1, :message, 'C1', 'command', :at)"
                ),
                {
                    "group": f"g{n}",
                    "message": f"said {n}",
                    "at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
                },
            )
    upgrade(database)
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT message, audience FROM kudos ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [(f"said {n}", "unknown") for n in range(3)]
    database.dispose()
