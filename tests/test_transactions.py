"""Transactions: a report that only reads never holds up a kudos being written."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from bot.db.engine import Database
from bot.db.models import KudosAllowance
from tests.support.fake_slack import TEAM_ID


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
