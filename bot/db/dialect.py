"""What PostgreSQL and SQLite spell differently, written once: the INSERT that has ON CONFLICT,
and the lock that makes two transactions take turns.

The domain writes its upserts and its "one at a time" sections through these two helpers, so
that no module needs to know which database it runs on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db.engine import POSTGRES_LOCK_WAIT_S, waiting_for_a_lock

# The lock, waited for at most `POSTGRES_LOCK_WAIT_S` (the subquery sets that first).
_TRANSACTION_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext(:key)) "
    "FROM (SELECT set_config('lock_timeout', :wait, true)) AS bounded"
)


def dialect_insert(database: Session | str) -> Callable[..., Any]:
    """The dialect's INSERT (of a session's database, or of a dialect's name), which has
    `on_conflict_do_nothing` / `on_conflict_do_update` (SQLAlchemy's generic one doesn't); both
    databases spell ON CONFLICT alike."""
    dialect = database if isinstance(database, str) else database.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def lock_transaction(session: Session, key: str) -> None:
    """Hold the lock named `key` until the transaction ends: transactions locking the same key
    take turns.

    On PostgreSQL an advisory transaction lock on the key's hash. SQLite needs none: its
    transactions take the database's write lock up front (`BEGIN IMMEDIATE`, bot/db/engine.py).
    """
    if session.get_bind().dialect.name == "postgresql":
        with waiting_for_a_lock(session):
            session.execute(
                _TRANSACTION_LOCK, {"key": key, "wait": f"{POSTGRES_LOCK_WAIT_S * 1000:.0f}ms"}
            )
