"""The engine and sessions: one `Database` per process, one explicit transaction per unit of work.

SQLite is tuned for a bot whose scheduler and request threads write at the same time: WAL
(readers never block the writer), a busy timeout, and `BEGIN IMMEDIATE` so that a transaction
takes the write lock up front instead of failing with "database is locked" when it upgrades.

PostgreSQL is bounded in time so that a command still answers inside Slack's 3 seconds when
the server goes away, whether its port refuses connections or accepts them and then says
nothing (a hung server, a half-open connection): connecting gives up after 2 s (libpq's
minimum), a pooled connection is pinged with a 0.5 s deadline before use, and every other wait
for the server gives up after `POSTGRES_ANSWER_TIMEOUT_S`. A server-side `statement_timeout`
would not help there — the server never sees the statement — so the deadline is the client's.
The one exception is waiting for another transaction's lock (`waiting_for_a_lock`): that is
bounded by the server (`lock_timeout`, `POSTGRES_LOCK_WAIT_S`) and waited for that long, so a
server that stops answering in the middle of that one statement is noticed after 32 s.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import InvalidatePoolError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRES_CONNECT_TIMEOUT_S = 2
POSTGRES_PING_TIMEOUT_S = 0.5
POSTGRES_ANSWER_TIMEOUT_S = 10.0
# How long a transaction may wait for another's lock (`lock_transaction`): the server gives up
# then (`lock_timeout`), and the client waits that long plus a margin. A queue of one giver's
# kudos on a busy machine waited past the 10 s meant for a server that doesn't answer.
POSTGRES_LOCK_WAIT_S = 30.0
# Connections a sized pool keeps open when idle; the rest up to its size close after use.
POOL_KEPT = 10
# An execution option on connections that only read (`Database.reading`).
READ_ONLY = "missionbot_read_only"


def pool_arguments(connections: int | None) -> dict[str, int]:
    """At most `connections` open at once, `POOL_KEPT` of them kept open between bursts; None
    keeps SQLAlchemy's default for SQLite and 10 + 10 for PostgreSQL (one-off commands)."""
    if connections is None:
        return {}
    kept = min(POOL_KEPT, connections)
    return {"pool_size": kept, "max_overflow": connections - kept}


def create_database_engine(
    url: str, *, connections: int | None = None, pooled: bool = True
) -> Engine:
    """The engine for `url`; `connections`: how many threads may hold a connection at once
    (bot/runtime.py's `database_connections` for `serve`), so that none waits for the pool;
    `pooled=False` (PostgreSQL): a connection opened for each use and closed after, with the
    same deadlines (bot/reports/settled.py's rare writes outside the bot's pool)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **pool_arguments(connections),
        )
        _tune_sqlite(engine)
        return engine
    pool: dict[str, Any] = (
        {
            **(pool_arguments(connections) or {"pool_size": 10, "max_overflow": 10}),
            "pool_timeout": 5,
        }
        if pooled
        else {"poolclass": NullPool}
    )
    engine = create_engine(
        url,
        # The pre-ping is ours (`_bound_postgres`): SQLAlchemy's has no deadline of its own.
        pool_pre_ping=False,
        connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
        **pool,
    )
    _bound_postgres(engine)
    return engine


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection that stops waiting for a server that doesn't answer.

    psycopg waits for a reply without limit; here each wait has a deadline, and a connection
    whose server missed it is closed, so that SQLAlchemy sees a disconnect and drops it.
    """

    answer_timeout: float = POSTGRES_ANSWER_TIMEOUT_S

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        limit = self.answer_timeout if timeout is None else timeout
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except pg_errors._WaitTimeout:
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database did not answer within {limit:g} s"
            ) from None

    @contextmanager
    def patient(self, timeout: float) -> Iterator[None]:
        """Wait up to `timeout` for the server's answers meanwhile (a lock being waited for)."""
        previous, self.answer_timeout = self.answer_timeout, timeout
        try:
            yield
        finally:
            self.answer_timeout = previous

    def ping(self, timeout: float) -> None:
        previous, self.answer_timeout = self.answer_timeout, timeout
        # Outside a transaction, so that none is left open: the caller may yet choose the
        # next transaction's isolation level, which psycopg allows only between transactions.
        idle = self.info.transaction_status == pq.TransactionStatus.IDLE
        autocommit, self.autocommit = self.autocommit, self.autocommit or idle
        try:
            self.execute("SELECT 1")
        finally:
            self.autocommit = autocommit
            self.answer_timeout = previous


def _bound_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return DeadlineConnection.connect(*cargs, **cparams)

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info["fresh"] = True

    @event.listens_for(engine, "checkout")
    def _pre_ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop("fresh", False):
            return
        try:
            dbapi_connection.ping(POSTGRES_PING_TIMEOUT_S)
        except psycopg.Error as exc:
            # Every pooled connection is suspect now: the pool reconnects them all, once.
            raise InvalidatePoolError(f"pre-ping failed: {exc}") from exc


def _ensure_sqrt(dbapi_connection: Any) -> None:
    """`sqrt` for the weighted leaderboard (bot/reports/weighted.py) where SQLite was built
    without its math functions (they came in 3.35 and are a compile-time option)."""
    try:
        dbapi_connection.execute("SELECT sqrt(4)").close()
    except sqlite3.OperationalError:
        dbapi_connection.create_function("sqrt", 1, _sqrt, deterministic=True)


def _sqrt(value: float | None) -> float | None:
    return None if value is None or value < 0 else math.sqrt(value)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that BEGIN IMMEDIATE below is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        _ensure_sqrt(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A reader takes no lock up front: in WAL it reads a snapshot beside the writer.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """Owns the engine; hands out sessions inside explicit transactions."""

    def __init__(self, url: str, *, connections: int | None = None) -> None:
        self.url = url
        self.engine = create_database_engine(url, connections=connections)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = self.engine.execution_options(**{READ_ONLY: True})
        # Re-entrant: a transaction opened inside another on the same thread meets SQLite's
        # own lock (and its busy timeout), as before, rather than a deadlock here.
        self._writers = threading.RLock() if self.dialect == "sqlite" else None
        if self.dialect == "postgresql":
            # One snapshot for the whole report: its several queries agree with each other.
            self._reader = self._reader.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error, closed.

        On SQLite the process's writers queue for the one write lock on a lock of their own
        first. SQLite's busy handler is no queue: a waiting writer polls, sleeping up to
        100 ms between tries, and a newcomer can take the lock between two polls. With dozens
        of threads writing at once on a busy machine, an unlucky one waited past the busy
        timeout and failed ("database is locked") while others went ahead; here they take
        their turns, for at most the busy timeout (then "database is locked", as SQLite says
        it), which is left for other processes too.
        """
        with self._write_turn(), self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def _write_turn(self) -> Iterator[None]:
        if self._writers is None:
            yield
            return
        if not self._writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            locked = sqlite3.OperationalError(
                "database is locked (waited for this process's writers)"
            )
            raise OperationalError(None, None, locked)
        try:
            yield
        finally:
            self._writers.release()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reports and lookups that write nothing.

        Its queries all see one snapshot, and it blocks no writer: on SQLite it doesn't take
        the write lock, so an all-time leaderboard over a million kudos never holds up a kudos
        being given; on PostgreSQL it is a read-only, repeatable-read transaction.
        """
        with self.sessions(bind=self._reader) as session, session.begin():
            yield session

    def is_reachable(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("database unreachable: %s", type(exc).__name__)
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def lock_wait(session: Session, wait: str) -> Iterator[None]:
    """Inside the block, wait at most `wait` (PostgreSQL's `lock_timeout`, as '500ms') for a
    lock, then fail the statement; after it, the transaction's own setting again (a caller
    may have bounded its waits already: `bot.db.dialect.lock_transaction`). A statement that
    failed inside leaves the transaction (or savepoint) to be rolled back, setting and all."""
    previous = session.execute(text("SHOW lock_timeout")).scalar()
    session.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": wait})
    yield
    session.execute(text("SELECT set_config('lock_timeout', :was, true)"), {"was": previous})


def quick_reads(session: Session, *, parallel: bool = False) -> None:
    """Tune this read transaction for a report's or a page's short statements (PostgreSQL):
    no JIT, whose compiling cost a 440 ms overview at ten million kudos 193 ms (the
    planner's cost for an aggregate of 200,000 tallies passes its threshold); room to hash
    50,000 people's counts, or a quarter's (giver, receiver) counts, without spilling to disk
    (4 MB did); and, unless `parallel` (a filtered page scanning a month's raw kudos, 1.7 s
    without workers against 1.2 s with them), no parallel workers, whose start cost more
    than a few thousand tallies' scan. The dashboard's pages call it, and the Slack reports
    that read many tallies (promise health, participation)."""
    _set_once(session, _QUICK if parallel else (*_QUICK, _NO_WORKERS))


def custom_plans(session: Session) -> None:
    """Plan every statement of this read transaction for its parameters' values
    (PostgreSQL), for statements that bind a user group's members as one array: psycopg
    prepares a statement run a sixth time on a connection, and after five plans for its
    values PostgreSQL may keep a generic plan, which can't hash an array it doesn't know (each
    kudos compared with each of 5,000 members: a group's principles page 300 ms, then
    1.2 s from its eleventh run)."""
    _set_once(session, (_CUSTOM_PLANS,))


def _set_once(session: Session, settings: Iterable[str]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    # Each setting once a transaction (SET LOCAL lasts until its end): the Home and the
    # digest call several reports that ask for them, three statements each time. The
    # innermost one: a savepoint rolled back takes its settings with it.
    transaction = session.get_nested_transaction() or session.get_transaction()
    done = _TUNED.setdefault(transaction, set()) if transaction is not None else set()
    for setting in settings:
        if setting not in done:
            session.execute(text(setting))
            done.add(setting)


_QUICK = ("SET LOCAL jit = off", "SET LOCAL work_mem = '32MB'")
_NO_WORKERS = "SET LOCAL max_parallel_workers_per_gather = 0"
_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"
_TUNED: weakref.WeakKeyDictionary[SessionTransaction, set[str]] = weakref.WeakKeyDictionary()


@contextmanager
def waiting_for_a_lock(session: Session) -> Iterator[None]:
    """Around a statement that waits for another transaction's lock: on PostgreSQL the client
    waits `POSTGRES_LOCK_WAIT_S` (and a margin) for its answer, not the usual deadline."""
    dbapi = session.connection().connection.dbapi_connection
    if not isinstance(dbapi, DeadlineConnection):
        yield
        return
    with dbapi.patient(POSTGRES_LOCK_WAIT_S + POSTGRES_CONNECT_TIMEOUT_S):
        yield
