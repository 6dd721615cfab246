"""Transactions: a report that only reads never holds up a kudos being written."""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import QueuePool, func, select

from bot.config import Settings
from bot.db.engine import Database
from bot.db.models import KudosAllowance
from bot.runtime import build_runtime, database_connections
from tests.support.fake_slack import TEAM_ID, FakeSlack


def _write_allowance(database: Database, done: threading.Event) -> None:
    with database.transaction() as session:
        session.add(KudosAllowance(team_id=TEAM_ID, giver_id="UWRITER1", day=dt.date.today()))
    done.set()


def test_a_writer_goes_ahead_while_a_report_is_reading(database: Database) -> None:
    written = threading.Event()
    with database.reading() as session:
        before = session.scalar(select(func.count()).select_from(KudosAllowance))
        writer = threading.Thread(target=_write_allowance, args=(database, written))
        writer.start()
        # On SQLite a write-locking reader would keep the writer waiting for its busy timeout.
        assert written.wait(timeout=5), "the write waited for the reading transaction"
        # The reader keeps its snapshot for the rest of its transaction.
        assert session.scalar(select(func.count()).select_from(KudosAllowance)) == before
    writer.join()
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(KudosAllowance)) == before + 1


def test_every_thread_of_a_busy_bot_gets_a_connection_without_waiting(
    settings: Settings, slack: FakeSlack
) -> None:
    """32 request threads, the listeners, the sender, the scheduler, the people sync, the
    person checks, a user group's tallies and the main thread each hold a connection at once
    (on SQLite: as many connections as PostgreSQL would open), and none waits for the pool;
    README says so."""
    busy = settings.model_copy(update={"server_threads": 32})
    runtime = build_runtime(busy, migrate=False)
    try:
        wanted = database_connections(busy)
        assert wanted == 32 + 62
        pool = runtime.database.engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() + pool._max_overflow == wanted
        if runtime.database.dialect == "sqlite":
            with ExitStack() as held:
                for _ in range(wanted):
                    held.enter_context(runtime.database.reading()).execute(select(1))
                assert pool.checkedout() == wanted
    finally:
        runtime.close()
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "opens at most `SERVER_THREADS` + 62 connections" in " ".join(readme.split())
