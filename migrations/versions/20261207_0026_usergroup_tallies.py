"""user groups' standing kudos, counted as a channel's are (`kudos_channel_tallies`, keyed by
the group's ID), for the groups the dashboard is filtered by; kept by triggers on `kudos`

A user group's pages counted its raw kudos (a kudos counts when its giver or a receiver is a
member): at ten million kudos a group of 5,000 people took ~165 ms for its overview and
~255 ms for its principles page (bench/RESULTS.md §60), reading every kudos of the period
and the 12 weeks. Its tallies have the shape of a channel's (migration 0023: days per
principle, months per person and principle, people counts), under the group's ID in
`channel_id` (a user group's ID starts with S, a channel's with C, G or D), so that one
reader answers both (bot/reports/channels.py).

Who is in a group is Slack's to say (`usergroups.list`, kept five minutes by the dashboard),
so the database keeps the members a group is counted for (`tallied_usergroup_members`) and a
digest of them (`tallied_usergroups`): the dashboard reads a group's tallies only while the
digest is Slack's and the tallies are whole (`counted_since` NULL), and otherwise reads the
raw kudos, as before, while bot/reports/usergroup_tallies.py brings them up to date in the
background (a new group's kudos a slice at a time, a changed membership's difference). Only
groups someone filtered by are counted, and at most MISSIONBOT_TALLIED_GROUPS a workspace
(lowering it stops new ones).

The triggers count a kudos in each tallied group of its giver and receiver whose
`counted_since` it isn't older than (the older ones are the fill's), with the channel
trigger's statement (0023 `_count_statement`) and, on PostgreSQL, after 0018's advisory lock
of the kudos's team and UTC quarter, as the channel trigger takes it. They read nothing but
an empty table while no group is tallied. Like the channel triggers, they do nothing in a
session with `missionbot.rebuilding` on (a rebuild writes no kudos). A later migration that
rebuilds `kudos` on SQLite (batch mode's copy and move) drops the triggers with the old
table: it must create them again (`create_triggers`).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 20:00:00.000000
"""

from collections.abc import Sequence
from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHANNELS = "bot.migrations.versions.20261206_0023_kudos_channel_tallies"
GROUPS = "tallied_usergroups"
MEMBERS = "tallied_usergroup_members"
# The columns whose change moves a group's count (not the channel: a group counts kudos
# given anywhere).
_CHANGES = "team_id, created_at, withdrawn_at, giver_id, receiver_id, principle_id"
_SQLITE_TRIGGERS = (
    "kudos_usergroup_add",
    "kudos_usergroup_remove",
    "kudos_usergroup_move_out",
    "kudos_usergroup_move_in",
)
# The row triggers taking the quarter lock are named to fire before the pair triggers
# (migration 0017: triggers on one event fire by name), as the channel's lock does.
_POSTGRES_TRIGGERS = (
    "kudos_group_lock",
    "kudos_group_lock_move",
    "kudos_usergroup_count",
    "kudos_usergroup_uncount",
    "kudos_usergroup_move",
)


def groups_of(row: str) -> str:
    """The tallied groups that count `row`'s kudos, as rows of (group_id): those its giver or
    receiver is a member of, that count kudos as old as it (older: the fill's)."""
    return (
        f"SELECT DISTINCT m.group_id FROM {MEMBERS} m JOIN {GROUPS} t "
        "ON t.team_id = m.team_id AND t.group_id = m.group_id "
        f"WHERE m.team_id = {row}.team_id AND m.user_id IN ({row}.giver_id, {row}.receiver_id) "
        f"AND (t.counted_since IS NULL OR {row}.created_at >= t.counted_since)"
    )


def _changes(operation: str) -> str:
    """The standing kudos a statement counts out (-1) and in (+1), one row for each tallied
    group that counts it, from its transition tables (0023 `_changes`, by group)."""
    columns = ("team_id", "created_at", "principle_id", "giver_id", "receiver_id")

    def side(alias: str, sign: int, source: str) -> str:
        picked = ", ".join(f"{alias}.{c}" for c in columns)
        return f"SELECT {picked}, {sign} AS sign {source} WHERE {alias}.withdrawn_at IS NULL"

    if operation == "INSERT":
        changed = side("n", 1, "FROM new_rows n")
    elif operation == "DELETE":
        changed = side("o", -1, "FROM old_rows o")
    else:
        tracked = _CHANGES.split(", ")
        moved = (
            f"({', '.join('o.' + c for c in tracked)}) IS DISTINCT FROM "
            f"({', '.join('n.' + c for c in tracked)})"
        )
        both = "FROM old_rows o JOIN new_rows n ON n.id = o.id"
        changed = f"{side('o', -1, both)} AND {moved} UNION ALL {side('n', 1, both)} AND {moved}"
    return (
        "SELECT c.team_id, g.group_id AS channel_id, c.created_at, c.principle_id, "
        f"c.giver_id, c.receiver_id, c.sign FROM ({changed}) AS c "
        f"CROSS JOIN LATERAL ({groups_of('c')}) AS g"
    )


def _count_function() -> str:
    """PostgreSQL's statement trigger function: the channel trigger's statement over the
    statement's kudos, one row per tallied group of each; nothing while no group is."""
    count_statement = import_module(_CHANNELS)._count_statement
    branches = "\n".join(
        f"  {'IF' if n == 0 else 'ELSIF'} TG_OP = '{operation}' THEN "
        f"{count_statement(_changes(operation))};"
        for n, operation in enumerate(("INSERT", "DELETE", "UPDATE"))
    )
    return (
        "CREATE OR REPLACE FUNCTION kudos_usergroup_count() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF current_setting('missionbot.rebuilding', true) = 'on' THEN RETURN NULL; END IF;\n"
        f"  IF NOT EXISTS (SELECT 1 FROM {GROUPS}) THEN RETURN NULL; END IF;\n"
        f"{branches}\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    )


def _lock_function() -> str:
    """The row trigger function taking 0018's lock of the team and UTC quarter of each
    standing kudos counted in or out while a group is tallied (0023 `_lock_function`, for
    kudos outside channels too): the group rows' people counts are shared by a month's
    kudos as a channel's are."""
    channels = import_module(_CHANNELS)
    lock_class, quarter = channels._QUARTER_LOCK_CLASS, channels._quarter_lock
    return (
        "CREATE OR REPLACE FUNCTION kudos_usergroup_lock() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        "DECLARE out_ boolean; in_ boolean;\n"
        "BEGIN\n"
        "  IF current_setting('missionbot.rebuilding', true) = 'on' THEN RETURN NULL; END IF;\n"
        f"  IF NOT EXISTS (SELECT 1 FROM {GROUPS}) THEN RETURN NULL; END IF;\n"
        "  out_ := TG_OP <> 'INSERT' AND OLD.withdrawn_at IS NULL;\n"
        "  in_ := TG_OP <> 'DELETE' AND NEW.withdrawn_at IS NULL;\n"
        f"  PERFORM pg_advisory_xact_lock({lock_class}, k) FROM (SELECT DISTINCT k FROM "
        f"(SELECT {quarter('OLD')} AS k WHERE out_ UNION ALL "
        f"SELECT {quarter('NEW')} WHERE in_) AS keys) AS l ORDER BY k;\n"
        "  RETURN NULL;\n"
        "END $$"
    )


def _sqlite_statements(row: str, sign: int) -> list[str]:
    """SQLite's body for one kudos (`row`: NEW or OLD) counted in (+1) or out (-1) of each
    tallied group of its giver and receiver (0023 `_statements`, a row per group)."""
    channels = import_module(_CHANNELS)
    table, columns, conflict = channels.TABLE, channels._COLUMNS, channels._CONFLICT
    day = channels._day("sqlite", f"{row}.created_at")
    people = channels._people("sqlite", row)
    groups = f"({groups_of(row)}) AS g"
    held = 0 if sign > 0 else 1
    return [
        f"INSERT INTO {table} ({columns}) SELECT {row}.team_id, g.group_id, 'p', {day}, "
        f"{row}.principle_id, '', {sign} FROM {groups} WHERE true {conflict}",
        f"INSERT INTO {table} ({columns}) SELECT {row}.team_id, g.group_id, upper(k.role), "
        f"k.bucket, k.principle_id, '', {sign} FROM {groups}, ({people}) AS k "
        f"WHERE coalesce((SELECT t.kudos FROM {table} t WHERE t.team_id = {row}.team_id "
        "AND t.channel_id = g.group_id AND t.role = k.role AND t.bucket = k.bucket "
        "AND t.principle_id = k.principle_id AND t.user_id = k.user_id), 0) = "
        f"{held} {conflict}",
        f"INSERT INTO {table} ({columns}) SELECT {row}.team_id, g.group_id, k.role, k.bucket, "
        f"k.principle_id, k.user_id, {sign} FROM {groups}, ({people}) AS k WHERE true {conflict}",
    ]


def create_triggers(dialect: str) -> None:
    """The triggers that count each change to `kudos` in the tallied groups it touches."""
    if dialect == "postgresql":
        op.execute(_lock_function())
        op.execute(_count_function())
        moved = (
            f"WHEN (({', '.join('OLD.' + c for c in _CHANGES.split(', '))}) "
            f"IS DISTINCT FROM ({', '.join('NEW.' + c for c in _CHANGES.split(', '))}))"
        )
        lock, lock_move, count, uncount, move = _POSTGRES_TRIGGERS
        op.execute(
            f"CREATE TRIGGER {lock} AFTER INSERT OR DELETE ON kudos "
            "FOR EACH ROW EXECUTE FUNCTION kudos_usergroup_lock()"
        )
        op.execute(
            f"CREATE TRIGGER {lock_move} AFTER UPDATE OF {_CHANGES} ON kudos FOR EACH ROW "
            f"{moved} EXECUTE FUNCTION kudos_usergroup_lock()"
        )
        op.execute(
            f"CREATE TRIGGER {count} AFTER INSERT ON kudos REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION kudos_usergroup_count()"
        )
        op.execute(
            f"CREATE TRIGGER {uncount} AFTER DELETE ON kudos REFERENCING OLD TABLE AS old_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION kudos_usergroup_count()"
        )
        op.execute(
            f"CREATE TRIGGER {move} AFTER UPDATE ON kudos REFERENCING OLD TABLE AS old_rows "
            "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kudos_usergroup_count()"
        )
        return
    events = [
        ("INSERT", "NEW", 1),
        ("DELETE", "OLD", -1),
        (f"UPDATE OF {_CHANGES}", "OLD", -1),
        (f"UPDATE OF {_CHANGES}", "NEW", 1),
    ]
    for name, (event, row, sign) in zip(_SQLITE_TRIGGERS, events, strict=True):
        body = "; ".join(_sqlite_statements(row, sign))
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON kudos FOR EACH ROW "
            f"WHEN {row}.withdrawn_at IS NULL BEGIN {body}; END"
        )


def drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        for name in _POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON kudos")
        op.execute("DROP FUNCTION IF EXISTS kudos_usergroup_count()")
        op.execute("DROP FUNCTION IF EXISTS kudos_usergroup_lock()")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        GROUPS,
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("members_digest", sa.String(length=64), nullable=False),
        sa.Column("counted_since", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "group_id", name=op.f("pk_tallied_usergroups")),
    )
    op.create_table(
        MEMBERS,
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "group_id", "user_id", name=op.f("pk_tallied_usergroup_members")
        ),
    )
    # The triggers' lookup: a kudos's giver's and receiver's groups.
    op.create_index(
        op.f("ix_tallied_usergroup_members_team_id_user_id_group_id"),
        MEMBERS,
        ["team_id", "user_id", "group_id"],
    )
    create_triggers(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    drop_triggers(dialect)
    # The groups' rows of the channel tallies: a user group's ID starts with S, a channel's
    # with C, G or D.
    op.execute("DELETE FROM kudos_channel_tallies WHERE channel_id LIKE 'S%'")
    op.drop_table(MEMBERS)
    op.drop_table(GROUPS)
