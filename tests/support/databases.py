"""Test databases: a migrated SQLite file per test, and a migrated PostgreSQL database per worker.

SQLite: the migrations run once (per xdist worker) into a template file that each test copies;
a database that several tests fill the same way is kept after its first fill and copied into
the next such test's file (`FilledSnapshots`).
PostgreSQL: TEST_DATABASE_URL names the server; the run migrates one template database there
(`PostgresTemplate`), each worker creates its own database as a copy of it, empties the tables
after each test and drops the database at the end.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, create_engine, text
from sqlalchemy.engine import make_url

from bot.db.engine import Database
from bot.db.models import Base, SettledCountGeneration
from bot.db.scratch import migrate, scratch_postgres_database

__all__ = [
    "FilledSnapshots",
    "PostgresTemplate",
    "copy_sqlite",
    "empty_tables",
    "emptying_order",
    "make_sqlite_template",
    "migrate",
    "postgres_server_url",
    "scratch_postgres_database",
]

TEST_DATABASE_URL_VARIABLE = "TEST_DATABASE_URL"

T = TypeVar("T")


def postgres_server_url() -> str | None:
    raw = os.environ.get(TEST_DATABASE_URL_VARIABLE)
    if not raw:
        return None
    if raw.startswith(("postgres://", "postgresql://")):
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


# One name for the run's template database, shared by its xdist workers: set by the first
# process that loads this module (the controller, or the only process under `-n0`) before
# the workers start, so they inherit it. Another run (another checkout's, another schema's)
# on the same server has its own.
RUN_VARIABLE = "MISSIONBOT_TEST_RUN"
os.environ.setdefault(RUN_VARIABLE, uuid.uuid4().hex[:12])


class PostgresTemplate:
    """The run's migrated PostgreSQL database, copied (`CREATE DATABASE ... TEMPLATE`) into each
    worker's own database instead of migrating each: a migration on PostgreSQL is 2-8 s of
    wall time here (23 revisions, their functions and triggers), a copy a fraction of that.

    The first worker to need it creates and migrates it; the controller drops it at the end
    (`drop`). PostgreSQL copies a database only while nothing is connected to it, so every
    step (is it there, create and migrate it, copy it, drop it) runs under one advisory lock
    of the run's: no worker copies while another is still migrating or dropping. The
    migration's engine is disposed before the lock is let go, so no connection lingers.
    """

    def __init__(self, server_url: str, run: str | None = None) -> None:
        self.server_url = server_url
        self.name = f"missionbot_test_template_{run or os.environ[RUN_VARIABLE]}"
        # pg_advisory_lock takes a bigint: the name's first 63 bits.
        self.lock = int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:8]) >> 1

    def url_of(self, name: str) -> str:
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self.lock})
                try:
                    yield connection
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.lock})
        finally:
            admin.dispose()

    @contextmanager
    def copy(self) -> Iterator[str]:
        """A new database on the server, migrated (a copy of the template), dropped afterwards."""
        with ExitStack() as dropped:
            with self._locked() as connection:
                exists = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": self.name}
                ).first()
                if exists is None:
                    connection.execute(text(f'CREATE DATABASE "{self.name}"'))
                    migrate(self.url_of(self.name))  # disposes its engine: no connection stays
                url = dropped.enter_context(
                    scratch_postgres_database(self.server_url, template=self.name)
                )
            yield url

    def drop(self) -> None:
        with self._locked() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))


def make_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def copy_sqlite(template: Path, directory: Path) -> str:
    target = directory / "missionbot.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


class FilledSnapshots:
    """SQLite databases filled once and copied after: the same rows, written by the same code.

    Some fixtures fill a test's database through the services (test_summaries' `history`:
    ~120 kudos given and withdrawn one by one, 0.4-0.8 s of CPU) for a dozen tests each. The
    first test a worker runs with one fills its own database as before and keeps a copy here;
    each later one gets that copy written over its own empty, migrated file, and the fill's
    return value. The rows are the ones its own fill would have written (the fills are
    deterministic: seeded randomness, instants given) but for what a fill draws afresh each
    time and no test compares: the kudos' group UUIDs, the mission's sync time. Tests that
    change the rows change their own copy. On PostgreSQL every test fills its own.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.kept: dict[str, Any] = {}

    def filled(self, name: str, database: Database, fill: Callable[[Database], T]) -> T:
        if database.dialect != "sqlite":
            return fill(database)
        path = database.engine.url.database
        assert path, database.url
        snapshot = self.directory / f"{name}.db"
        if name in self.kept:
            database.dispose()  # no connection holds the file while it is written over
            _backup(snapshot, Path(path))
            return self.kept[name]  # type: ignore[no-any-return]
        result = fill(database)
        database.dispose()
        _backup(Path(path), snapshot)
        self.kept[name] = result
        return result


def _backup(source: Path, target: Path) -> None:
    """SQLite's online backup: the whole database, WAL included, page by page."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def emptying_order() -> list[Table]:
    """Every table, in an order to delete their rows in: those referring to others first,
    and the tallies' histogram last, as the tallies' triggers write it while their rows go
    (migration 0018)."""
    last = Base.metadata.tables["kudos_tally_histogram"]
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t is not last]
    return [*tables, last]


def empty_tables(url: str) -> None:
    """Every table emptied and every sequence back at 1, as `TRUNCATE ... RESTART IDENTITY`
    would leave them, at a fraction of its cost: TRUNCATE gives each table new files on disk,
    which took 0.57 s per test here (22 tables, with fsync), where a DELETE of the few rows a
    test wrote and a `setval` per sequence take milliseconds, in one commit."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in emptying_order():
            connection.execute(table.delete())
        # The kudos deleted (dated in the past) move their team's generation of settled counts
        # at commit (migration 0027's deferred triggers): now, then emptied again.
        connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        connection.execute(SettledCountGeneration.__table__.delete())
        sequences = connection.execute(
            text(
                "SELECT c.oid::regclass::text FROM pg_class c "
                "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
            )
        ).scalars()
        for sequence in list(sequences):
            connection.execute(text("SELECT setval(:sequence, 1, false)"), {"sequence": sequence})
    engine.dispose()
