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
  be in it. The generation is read in the count's statement (participation) or before it
  (health): a count read before a write committed carries the generation before it, and is
  never read back. Every team there is gets its row here; a new team's, from its first
  report (SQLite) or from the first write the triggers see (PostgreSQL, where a report and
  a write can meet: the report's insert waits for the write's row).

On PostgreSQL the triggers run at commit, once per team a transaction (`_postgresql_statements`
says why); on SQLite per row, when the row is that old. Writes to older kudos of one team take
turns on its row as they commit (they are rare: a late event, a script).
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
_EVENTS = (("insert", "INSERT"), ("update", "UPDATE"), ("delete", "DELETE"))
# The transaction-local setting that says a team's generation moved in this transaction.
_MOVED = "'missionbot.settled_moved_' || lower(team)"
# What a count reads of a kudos (bot/reports/summaries.counted and the people's columns).
_COUNTED_COLUMNS = "team_id, created_at, withdrawn_at, giver_id, receiver_id, principle_id"


def _postgresql_statements() -> list[str]:
    """PostgreSQL's writers run at once, and the write path takes its tallies' advisory
    locks after its kudos statements: a trigger taking the team's row then would hold it
    while waiting for another writer's lock, which may wait for the row (a deadlock, two
    threads giving kudos dated last month). So the row is taken at commit, when the
    transaction holds every other lock it will take: deferred constraint triggers, per row
    as PostgreSQL has them, moving each team once a transaction (a transaction-local
    setting marks it done: a million kudos deleted move the generation once). A team with
    no row yet gets one, at 1: a write meeting a report that makes the team's first row
    can't pass unseen."""
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _COUNTED_COLUMNS.split(", "))
    old = {row: _OLD_POSTGRESQL.format(row=row) for row in ("NEW", "OLD")}
    when = {
        "insert": old["NEW"],
        # An update only of what a count reads.
        "update": f"({old['OLD']} OR {old['NEW']}) AND ({changed})",
        "delete": old["OLD"],
    }
    statements = [
        "CREATE OR REPLACE FUNCTION settled_counts_touched() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\nDECLARE\n  team text;\nBEGIN\n"
        "  FOREACH team IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.team_id] "
        "WHEN 'DELETE' THEN ARRAY[OLD.team_id] ELSE ARRAY[OLD.team_id, NEW.team_id] END LOOP\n"
        f"    IF current_setting({_MOVED}, true) IS DISTINCT FROM 'on' THEN\n"
        "      INSERT INTO settled_count_generations (team_id, generation) VALUES (team, 1) "
        "ON CONFLICT (team_id) DO UPDATE "
        "SET generation = settled_count_generations.generation + 1;\n"
        f"      PERFORM set_config({_MOVED}, 'on', true);\n"
        "    END IF;\n  END LOOP;\n  RETURN NULL;\nEND $$"
    ]
    statements += [
        f"CREATE CONSTRAINT TRIGGER settled_counts_{name} AFTER {event} ON kudos "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({when[name]}) "
        "EXECUTE FUNCTION settled_counts_touched()"
        for name, event in _EVENTS
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
    for name, _event in _EVENTS:
        op.execute(
            f"DROP TRIGGER IF EXISTS settled_counts_{name}" + (" ON kudos" if postgresql else "")
        )
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS settled_counts_touched()")
    op.drop_table("settled_reports")
    op.drop_table("settled_people_counts")
    op.drop_table("settled_count_generations")
