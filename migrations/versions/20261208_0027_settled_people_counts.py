"""how many people gave and received in a period that has ended, kept once counted

Participation (the managers' App Home, the weekly digest) compares this period with the one
before, which has ended. Counting the people of an ended local month reads its UTC month's
person tallies against the people of its edge hours: at ten million kudos two hash joins of
50,000 rows, ~35 ms of the Home's ~75 ms of participation (bench/RESULTS.md §64), the same
number on every Home of the month. A count of standing kudos in a period that has ended
changes only when a kudos of that period is given late, moved, withdrawn, restored or
deleted, which the bot does only within minutes of a kudos being given (the undo window).

* `settled_people_counts`: a count, the period's bounds, and the generation of the team it
  was counted at.
* `settled_reports`: a report's whole result of such a period (JSON), with its generation:
  promise health's people per principle of last week (`/kudos health week`), ~80 ms at ten
  million kudos for the same answer all week.
* `settled_count_generations`: each team's generation, moved on by triggers on `kudos` for
  every write that touches a kudos created more than 30 minutes before the writing
  transaction began (any release's, a script's, a person erased), so every count of the
  team is stale from then on. A count is kept only for a period that ended an hour before
  the database's clock, so a write the triggers let by (a kudos under 30 minutes old) can't
  be in it. Reader and count are one statement (one snapshot): a count read before a write
  committed carries the generation before it, and is never read back.

On PostgreSQL the triggers are per statement over the statement's rows (a million kudos
deleted move the generation once); on SQLite per row, when the row is that old.
`missionbot.rebuilding` leaves them on: the rebuild writes no kudos, and moves the
generation itself when it is done (its counts read the tallies it rewrites).

Old code keeps working against the new schema: it never reads the new tables.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A write touching a kudos older than this moves its team's generation on.
_OLD_POSTGRESQL = "{row}.created_at < now() - interval '30 minutes'"
_OLD_SQLITE = "{row}.created_at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 minutes')"
# SQLite has one writer at a time: a report making a team's first row can't meet a write.
_BUMP_SQLITE = "UPDATE settled_count_generations SET generation = generation + 1 WHERE team_id"
# PostgreSQL's writers run at once: a team with no row yet gets one (at 1), so a write
# meeting a report that is making the team's first row can't pass unseen (the report's
# insert waits for it). In team order, so two writers take the rows in one order.
_BUMP_POSTGRESQL = (
    "INSERT INTO settled_count_generations (team_id, generation) "
    "SELECT DISTINCT team_id, 1 FROM ({teams}) t ORDER BY team_id "
    "ON CONFLICT (team_id) DO UPDATE "
    "SET generation = settled_count_generations.generation + 1"
)
# (name, event, transition tables)
_EVENTS = (
    ("insert", "INSERT", "NEW TABLE AS new_rows"),
    ("update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "OLD TABLE AS old_rows"),
)
# What a count reads of a kudos (bot/reports/summaries.counted and the people's columns).
_COUNTED_COLUMNS = "team_id, created_at, withdrawn_at, giver_id, receiver_id, principle_id"


def _postgresql_statements() -> list[str]:
    old = {row: _OLD_POSTGRESQL.format(row=row) for row in ("o", "n")}
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in _COUNTED_COLUMNS.split(", "))
    inserted = f"SELECT n.team_id FROM new_rows n WHERE {old['n']}"
    deleted = f"SELECT o.team_id FROM old_rows o WHERE {old['o']}"
    moved = (
        "SELECT unnest(ARRAY[o.team_id, n.team_id]) AS team_id FROM old_rows o "
        f"JOIN new_rows n ON n.id = o.id WHERE ({old['o']} OR {old['n']}) AND ({changed})"
    )

    def bump(teams: str) -> str:
        return _BUMP_POSTGRESQL.format(teams=teams)

    statements = [
        "CREATE OR REPLACE FUNCTION settled_counts_touched() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\nBEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        f"    {bump(inserted)};\n"
        "  ELSIF TG_OP = 'DELETE' THEN\n"
        f"    {bump(deleted)};\n"
        "  ELSE\n"
        f"    {bump(moved)};\n"
        "  END IF;\n"
        "  RETURN NULL;\nEND $$"
    ]
    statements += [
        f"CREATE TRIGGER settled_counts_{name} AFTER {event} ON kudos REFERENCING {tables} "
        "FOR EACH STATEMENT EXECUTE FUNCTION settled_counts_touched()"
        for name, event, tables in _EVENTS
    ]
    return statements


def _sqlite_statements() -> list[str]:
    new, old = _OLD_SQLITE.format(row="NEW"), _OLD_SQLITE.format(row="OLD")
    return [
        f"CREATE TRIGGER settled_counts_insert AFTER INSERT ON kudos WHEN {new} "
        f"BEGIN {_BUMP_SQLITE} = NEW.team_id; END",
        f"CREATE TRIGGER settled_counts_update AFTER UPDATE OF {_COUNTED_COLUMNS} ON kudos "
        f"WHEN {new} OR {old} BEGIN {_BUMP_SQLITE} IN (NEW.team_id, OLD.team_id); END",
        f"CREATE TRIGGER settled_counts_delete AFTER DELETE ON kudos WHEN {old} "
        f"BEGIN {_BUMP_SQLITE} = OLD.team_id; END",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "settled_count_generations",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_settled_count_generations")),
    )
    op.create_table(
        "settled_people_counts",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=1), nullable=False),
        sa.Column("principle_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id",
            "role",
            "principle_id",
            "start_at",
            "end_at",
            name=op.f("pk_settled_people_counts"),
        ),
    )
    op.create_table(
        "settled_reports",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("report", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=80), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "report", "period", name=op.f("pk_settled_reports")),
    )
    for statement in _postgresql_statements() if dialect == "postgresql" else _sqlite_statements():
        op.execute(statement)
    # Every team there is has its row before any count is kept (a new team's first report
    # makes it).
    op.execute(
        "INSERT INTO settled_count_generations (team_id, generation) "
        "SELECT DISTINCT team_id, 0 FROM principles"
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, _event, _tables in _EVENTS:
        op.execute(
            f"DROP TRIGGER IF EXISTS settled_counts_{name}" + (" ON kudos" if postgresql else "")
        )
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS settled_counts_touched()")
    op.drop_table("settled_reports")
    op.drop_table("settled_people_counts")
    op.drop_table("settled_count_generations")
