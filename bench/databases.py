"""Fresh, migrated databases for the benchmarks: a SQLite file and a PostgreSQL scratch database.

PostgreSQL comes from BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server with
trust auth; the scratch database is dropped afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.db.scratch import migrate, scratch_postgres_database

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_server() -> str:
    server = (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or DEFAULT_POSTGRES
    )
    if server.startswith(("postgres://", "postgresql://")):
        server = "postgresql+psycopg://" + server.split("://", 1)[1]
    return server


@contextmanager
def fresh_database(
    backend: str, tmp: Path, name: str, migrator: Callable[[str], None] = migrate
) -> Iterator[str]:
    """The URL of a migrated database: `tmp/name.db` for sqlite, a scratch one for postgresql.
    `migrator` brings it to the head (another checkout's, when that checkout is measured)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'{name}.db'}"
        migrator(url)
        yield url
        return
    with scratch_postgres_database(postgres_server()) as url:
        migrator(url)
        yield url


@contextmanager
def fresh_databases(
    tmp: Path, name: str, migrator: Callable[[str], None] = migrate
) -> Iterator[dict[str, str]]:
    """Both backends at once, by name."""
    with (
        fresh_database("sqlite", tmp, name, migrator) as sqlite,
        fresh_database("postgresql", tmp, name, migrator) as postgres,
    ):
        yield {"postgresql": postgres, "sqlite": sqlite}


@contextmanager
def kept_database(backend: str, name: str) -> Iterator[str]:
    """The URL of a migrated database that outlives the run, to seed once and measure many
    times (ten million kudos take a quarter of an hour to make): PostgreSQL database `name` on
    the server (created when missing), or SQLite file /var/tmp/`name`.db."""
    if backend == "sqlite":
        url = f"sqlite:///{Path('/var/tmp') / f'{name}.db'}"
    else:
        server = postgres_server()
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                found = connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
                if not found:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url
