"""participation counted from `kudos_latest`'s index less the few people who are not active

Participation (the managers' App Home, the weekly digest, the dashboard) counts the active
people (not bots, not deactivated, in the directory) who gave and received in a period. At ten
million kudos it read every active person (49,484) and brought each their two `kudos_latest`
rows by two hash joins of 50,000 rows (~45-65 ms of server CPU, bench/RESULTS.md §42), and
probed each against a hashed month of tallies for last month's lists. Counting everyone
instead is cheap (a range of an index; a month's histogram, migration 0018) if the people
who are not active can be found without reading everyone. Three pieces:

* `ix_kudos_latest_team_id_role_last_at`: the people whose latest kudos lies in a period
  (this month, the last 60 days) are a range of it;
* `ix_people_team_id_inactive`, partial (`is_bot OR deleted`): the bots and the deactivated,
  a few hundred rows;
* `kudos_unlisted`: the people of `kudos_latest` who may be missing from the directory, as
  candidates the reader checks against `people` (a stale one costs a seek). Kept by
  triggers, whichever release writes:
  - `kudos_latest` row inserted (a person's first standing kudos of a role; updates fire
    nothing) while `people` has no row for them: a candidate of that role. Only the
    transaction holding that person's all-time tally of that role inserts their row there
    (migration 0021), so no two writers meet at the candidate either. Quiet while
    `missionbot.rebuilding` is on (0022's convention): the rebuild refills it.
  - `people` rows deleted: a candidate of each role, always, whatever the deleting
    transaction can see of `kudos_latest` (a kudos whose transaction has not committed yet
    saw the row and wrote no candidate). `ON CONFLICT DO NOTHING`, rows in key order: it
    can wait for a kudos's uncommitted candidate, never the other way round.
  Nothing removes a candidate when a person is added to the directory: that delete would
  lock rows a kudos may be inserting (it waits for the person's directory row, which the
  adder holds, while holding tallies the adder may need). The kudos flow writes its people
  first, so candidates are rare; the rebuild drops the stale ones.

Old code keeps working against the new schema: it never reads the new table and index.
Filled here after the triggers exist (a candidate written meanwhile by a trigger stays;
`ON CONFLICT DO NOTHING`).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REBUILDING = "current_setting('missionbot.rebuilding', true) = 'on'"
_MISSING = (
    "NOT EXISTS (SELECT 1 FROM people p "
    "WHERE p.team_id = {row}.team_id AND p.user_id = {row}.user_id)"
)
_CANDIDATES = (
    "INSERT INTO kudos_unlisted (team_id, role, user_id) "
    "SELECT l.team_id, l.role, l.user_id FROM kudos_latest l WHERE "
    + _MISSING.format(row="l")
    + " ORDER BY l.team_id, l.role, l.user_id ON CONFLICT DO NOTHING"
)


def _postgresql_statements() -> list[str]:
    return [
        "CREATE OR REPLACE FUNCTION kudos_unlisted_from_latest() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$\nBEGIN\n  IF {_REBUILDING} THEN\n    RETURN NULL;\n  END IF;\n"
        f"  IF {_MISSING.format(row='NEW')} THEN\n"
        "    INSERT INTO kudos_unlisted (team_id, role, user_id) "
        "VALUES (NEW.team_id, NEW.role, NEW.user_id) ON CONFLICT DO NOTHING;\n"
        "  END IF;\n  RETURN NULL;\nEND $$",
        "CREATE TRIGGER kudos_unlisted_latest AFTER INSERT ON kudos_latest "
        "FOR EACH ROW EXECUTE FUNCTION kudos_unlisted_from_latest()",
        # Not quiet during a rebuild: the rebuild never deletes people, and a candidate lost
        # would make participation count someone who is gone.
        "CREATE OR REPLACE FUNCTION kudos_unlisted_from_people() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\nBEGIN\n"
        "  INSERT INTO kudos_unlisted (team_id, role, user_id) "
        "SELECT o.team_id, r.role, o.user_id FROM old_rows o "
        "CROSS JOIN (VALUES ('g'), ('r')) r (role) ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING;\n"
        "  RETURN NULL;\nEND $$",
        "CREATE TRIGGER kudos_unlisted_people AFTER DELETE ON people "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION kudos_unlisted_from_people()",
    ]


def _sqlite_statements() -> list[str]:
    # SQLite has one writer at a time: row triggers, no ordering to keep.
    return [
        "CREATE TRIGGER kudos_unlisted_latest AFTER INSERT ON kudos_latest FOR EACH ROW "
        f"WHEN {_MISSING.format(row='NEW')} BEGIN "
        "INSERT OR IGNORE INTO kudos_unlisted (team_id, role, user_id) "
        "VALUES (NEW.team_id, NEW.role, NEW.user_id); END",
        "CREATE TRIGGER kudos_unlisted_people AFTER DELETE ON people FOR EACH ROW BEGIN "
        "INSERT OR IGNORE INTO kudos_unlisted (team_id, role, user_id) "
        "VALUES (OLD.team_id, 'g', OLD.user_id), (OLD.team_id, 'r', OLD.user_id); END",
    ]


def _drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS kudos_unlisted_latest ON kudos_latest")
        op.execute("DROP TRIGGER IF EXISTS kudos_unlisted_people ON people")
        op.execute("DROP FUNCTION IF EXISTS kudos_unlisted_from_latest()")
        op.execute("DROP FUNCTION IF EXISTS kudos_unlisted_from_people()")
        return
    op.execute("DROP TRIGGER IF EXISTS kudos_unlisted_latest")
    op.execute("DROP TRIGGER IF EXISTS kudos_unlisted_people")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_index(
        "ix_kudos_latest_team_id_role_last_at", "kudos_latest", ["team_id", "role", "last_at"]
    )
    op.create_index(
        "ix_people_team_id_inactive",
        "people",
        ["team_id", "user_id"],
        postgresql_where=sa.text("is_bot OR deleted"),
        sqlite_where=sa.text("is_bot OR deleted"),
    )
    op.create_table(
        "kudos_unlisted",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=1), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "role", "user_id", name=op.f("pk_kudos_unlisted")),
    )
    for statement in _postgresql_statements() if dialect == "postgresql" else _sqlite_statements():
        op.execute(statement)
    op.execute(_CANDIDATES)


def downgrade() -> None:
    _drop_triggers(op.get_bind().dialect.name)
    op.drop_table("kudos_unlisted")
    op.drop_index("ix_people_team_id_inactive", table_name="people")
    op.drop_index("ix_kudos_latest_team_id_role_last_at", table_name="kudos_latest")
