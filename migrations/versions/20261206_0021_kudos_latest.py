"""when each person last received and last gave a standing kudos, kept by triggers

Participation (the digest's and the managers' App Home's) counts the active people who were
recognised in the last 60 days and who gave and received this month. At ten million kudos it
hashed two months' person tallies and sought the days before them for the 60 days, and a
month's tallies with its edge hours for each of this month's lists (the 60 days alone: 53
ms of server CPU). `kudos_latest` holds, per team, role ("r" received, "g" given) and
person, the `created_at` of their latest standing kudos (NULL once none stands): those three
lists become one comparison per active person, joined with their two rows
(bot/reports/summaries.py `participation`; bench/RESULTS.md §42).

Kept by triggers, so that it follows whatever changes the kudos, whichever release wrote
them:
* on `kudos_tallies`, when a person's all-time tally (grain "a", every principle) is
  inserted or updated: every kudos given and every withdrawal changes it, for its giver and
  each receiver. The trigger seeks the person's latest standing kudos in the kudos'
  covering index (by giver or by receiver) and upserts it. PostgreSQL: one statement per
  tally statement (its new rows as a transition table), rows in key order. A tally deleted
  or moved by hand changes nobody's kudos: nothing to follow.
* on `kudos`, when a row's `withdrawn_at` changes: its giver's and its receiver's seek again.
  The write path takes a withdrawn kudos out of the tallies before its rows' UPDATE reaches
  the database, so the tally trigger still saw it standing.

No deadlock: a person's row here is written only by a transaction that already holds that
person's all-time tally row (the tally statement itself, or the withdrawal that changed the
tally first), so two transactions never wait for each other here; they have waited at the
tally, in the tallies' key order, before.

Both functions do nothing while `missionbot.rebuilding` is 'on' (the rebuild's session):
the rebuild refills the table once the all-time tallies are rebuilt (`refill_latest`).

Filled here: the triggers first, then the people of the all-time tallies in batches of
5,000, each its own short transaction of seeks, `ON CONFLICT DO NOTHING`: a row the triggers
wrote meanwhile was computed after the kudos it follows changed, and wins; a row the fill
wrote first is overwritten by the next trigger. Nothing holds kudos writes. On SQLite the
migration holds the write lock throughout, as every SQLite migration does.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 23:00:00.000000
"""

import logging
import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

_BATCH = 5_000
_ALL_TIME = "grain = 'a' AND principle_id = 0 AND role IN ('r', 'g')"
_REBUILDING = "current_setting('missionbot.rebuilding', true) = 'on'"
_TRIGGERS_POSTGRESQL = {
    "kudos_latest_tally_insert": "INSERT",
    "kudos_latest_tally_update": "UPDATE",
}
_SQLITE_TRIGGERS = (
    "kudos_latest_tally_insert",
    "kudos_latest_tally_update",
    "kudos_latest_withdrawn",
)


def seek(team: str, role: str, who: str) -> str:
    """The latest standing kudos of `who` in `role` (SQL expressions): a backward seek of the
    kudos' covering index by receiver or by giver."""
    latest = (
        "(SELECT max(k.created_at) FROM kudos k WHERE k.team_id = {team} AND k.{column} = {who} "
        "AND k.withdrawn_at IS NULL)"
    )
    return (
        f"CASE {role} WHEN 'r' THEN {latest.format(team=team, column='receiver_id', who=who)} "
        f"ELSE {latest.format(team=team, column='giver_id', who=who)} END"
    )


# The people of a tally statement's rows (one row per key: no DISTINCT), in key order.
_UPSERT = (
    "INSERT INTO kudos_latest (team_id, role, user_id, last_at) "
    "SELECT c.team_id, c.role, c.user_id, {seek} FROM new_rows c WHERE {all_time} "
    "ORDER BY c.team_id, c.role, c.user_id "
    "ON CONFLICT (team_id, role, user_id) DO UPDATE SET last_at = excluded.last_at"
).format(
    seek=seek("c.team_id", "c.role", "c.user_id"),
    all_time=" AND ".join(f"c.{part}" for part in _ALL_TIME.split(" AND ")),
)


def postgresql_statements() -> list[str]:
    """PostgreSQL's two trigger functions and their triggers. A tally inserted or updated
    names the people whose kudos changed (its new rows); one deleted or moved does not change
    anyone's kudos (a rebuild, a hand fix), so it fires nothing."""
    statements = [
        "CREATE OR REPLACE FUNCTION kudos_latest_from_tallies() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$\nBEGIN\n  IF {_REBUILDING} THEN\n    RETURN NULL;\n  END IF;\n"
        f"  {_UPSERT};\n  RETURN NULL;\nEND $$"
    ]
    for name, event in _TRIGGERS_POSTGRESQL.items():
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON kudos_tallies "
            "REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION kudos_latest_from_tallies()"
        )
    # Once per statement, from its transition tables, the people of the kudos whose
    # withdrawal changed: a kudos to 500 people withdrawn (one UPDATE) moves its giver's row
    # once, where a row trigger upserted it, and sought the giver's latest kudos, once per
    # receiver, each time past the versions the transaction had made before (quadratic).
    # A statement trigger with transition tables takes no column list, so every update of
    # kudos runs it; the join keeps the rows whose withdrawal changed.
    people = (
        "SELECT DISTINCT n.team_id, p.role, p.user_id FROM old_rows o "
        "JOIN new_rows n ON n.id = o.id "
        "CROSS JOIN LATERAL (VALUES ('g', n.giver_id), ('r', n.receiver_id)) AS p (role, user_id) "
        "WHERE o.withdrawn_at IS DISTINCT FROM n.withdrawn_at"
    )
    statements.append(
        "CREATE OR REPLACE FUNCTION kudos_latest_withdrawn() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$\nBEGIN\n  IF {_REBUILDING} THEN\n    RETURN NULL;\n  END IF;\n"
        "  INSERT INTO kudos_latest (team_id, role, user_id, last_at) "
        f"SELECT c.team_id, c.role, c.user_id, {seek('c.team_id', 'c.role', 'c.user_id')} "
        f"FROM ({people}) c ORDER BY c.team_id, c.role, c.user_id "
        "ON CONFLICT (team_id, role, user_id) DO UPDATE SET last_at = excluded.last_at;\n"
        "  RETURN NULL;\nEND $$"
    )
    statements.append(
        "CREATE TRIGGER kudos_latest_withdrawn AFTER UPDATE ON kudos "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION kudos_latest_withdrawn()"
    )
    return statements


def _sqlite_upsert(team: str, role: str, who: str) -> str:
    return (
        f"INSERT INTO kudos_latest (team_id, role, user_id, last_at) VALUES ({team}, {role}, "
        f"{who}, {seek(team, role, who)}) "
        "ON CONFLICT (team_id, role, user_id) DO UPDATE SET last_at = excluded.last_at"
    )


def create_triggers(dialect: str) -> None:
    """The triggers that keep `kudos_latest` current with every change to the kudos."""
    if dialect == "postgresql":
        for statement in postgresql_statements():
            op.execute(statement)
        return
    tally = {
        "kudos_latest_tally_insert": ("INSERT", "NEW"),
        "kudos_latest_tally_update": ("UPDATE", "NEW"),
    }
    for name, (event, row) in tally.items():
        when = f"{row}.grain = 'a' AND {row}.principle_id = 0 AND {row}.role IN ('r', 'g')"
        action = _sqlite_upsert(f"{row}.team_id", f"{row}.role", f"{row}.user_id")
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON kudos_tallies FOR EACH ROW "
            f"WHEN {when} BEGIN {action}; END"
        )
    giver = _sqlite_upsert("NEW.team_id", "'g'", "NEW.giver_id")
    receiver = _sqlite_upsert("NEW.team_id", "'r'", "NEW.receiver_id")
    op.execute(
        "CREATE TRIGGER kudos_latest_withdrawn AFTER UPDATE OF withdrawn_at ON kudos "
        f"FOR EACH ROW WHEN OLD.withdrawn_at IS NOT NEW.withdrawn_at BEGIN {giver}; {receiver}; END"
    )


def drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        for name in _TRIGGERS_POSTGRESQL:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON kudos_tallies")
        op.execute("DROP TRIGGER IF EXISTS kudos_latest_withdrawn ON kudos")
        op.execute("DROP FUNCTION IF EXISTS kudos_latest_from_tallies()")
        op.execute("DROP FUNCTION IF EXISTS kudos_latest_withdrawn()")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # An interrupted run (PostgreSQL commits it batch by batch) starts over.
    drop_triggers(dialect)
    op.execute("DROP TABLE IF EXISTS kudos_latest")
    op.create_table(
        "kudos_latest",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=1), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "role", "user_id", name=op.f("pk_kudos_latest")),
    )
    if dialect != "postgresql":
        create_triggers(dialect)
        op.execute(
            "INSERT INTO kudos_latest (team_id, role, user_id, last_at) "
            f"SELECT t.team_id, t.role, t.user_id, {seek('t.team_id', 't.role', 't.user_id')} "
            f"FROM kudos_tallies t WHERE {_ALL_TIME}"
        )
        return
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        create_triggers(dialect)
        op.execute("COMMIT")
        _fill_in_batches()
        op.execute("ANALYZE kudos_latest")


# The teams that have tallies, one seek of the tallies' key each (as 0018).
_TEAMS = (
    "WITH RECURSIVE t AS (SELECT min(team_id) AS team_id FROM kudos_tallies UNION ALL "
    "SELECT (SELECT min(team_id) FROM kudos_tallies WHERE team_id > t.team_id) FROM t "
    "WHERE t.team_id IS NOT NULL) SELECT team_id FROM t WHERE team_id IS NOT NULL"
)
_FILL_SEEK = seek("CAST(:team AS text)", "CAST(:role AS text)", "b.user_id")
_FILL = sa.text(
    "WITH batch AS (SELECT user_id FROM kudos_tallies WHERE team_id = :team AND role = :role "
    "AND grain = 'a' AND principle_id = 0 AND bucket = DATE '1970-01-01' AND user_id > :after "
    f"ORDER BY user_id LIMIT {_BATCH}), "
    "filled AS (INSERT INTO kudos_latest (team_id, role, user_id, last_at) "
    f"SELECT :team, :role, b.user_id, {_FILL_SEEK} "
    "FROM batch b ORDER BY b.user_id ON CONFLICT (team_id, role, user_id) DO NOTHING) "
    "SELECT max(user_id) FROM batch"
)


def _fill_in_batches() -> None:
    """PostgreSQL, the triggers already on: every person of the all-time tallies, 5,000 a
    transaction (module docstring)."""
    bind = op.get_bind()
    teams = bind.scalars(sa.text(_TEAMS)).all()
    started, batches = time.monotonic(), 0
    for team in teams:
        for role in ("g", "r"):
            after = ""
            while True:
                op.execute("BEGIN")
                last = bind.scalar(_FILL, {"team": team, "role": role, "after": after})
                op.execute("COMMIT")
                batches += 1
                if last is None:
                    break
                after = last
    log.info("kudos_latest: %d batches filled in %.1f s", batches, time.monotonic() - started)


def downgrade() -> None:
    drop_triggers(op.get_bind().dialect.name)
    op.drop_table("kudos_latest")
