"""Test databases: a migrated SQLite file per test, and a migrated PostgreSQL database per worker.

SQLite: the migrations run once (per xdist worker) into a template file that each test copies.
PostgreSQL: TEST_DATABASE_URL names the server; each worker creates its own database there,
migrates it once, empties the tables after each test and drops the database at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.db.models import Base

TEST_DATABASE_URL_VARIABLE = "TEST_DATABASE_URL"


def postgres_server_url() -> str | None:
    raw = os.environ.get(TEST_DATABASE_URL_VARIABLE)
    if not raw:
        return None
    if raw.startswith(("postgres://", "postgresql://")):
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


@contextmanager
def scratch_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server, dropped afterwards."""
    name = f"missionbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def migrate(url: str) -> None:
    database = Database(url)
    try:
        upgrade(database)
    finally:
        database.dispose()


def make_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def copy_sqlite(template: Path, directory: Path) -> str:
    target = directory / "missionbot.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def empty_tables(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
