"""the tally histogram's trigger does nothing inside a rebuild (`missionbot.rebuilding`)

`missionbot db rebuild-summaries` (bot/reports/rebuild.py) writes a month's tallies in one
statement and then counts the month's (and quarter's) histogram again from them itself: the
statement-level triggers of migration 0018, which move people between counts for every
tally the statement wrote, were work thrown away (at a million kudos ~20 % of a rebuild
over existing tallies, bench/RESULTS.md §39).

So the trigger function now first reads the setting `missionbot.rebuilding`, which the
rebuild sets with `SET LOCAL` in each of its transactions: when it is 'on' the function
returns at once. Every other transaction (the write path, a bot still on yesterday's release,
a hand fix) never sets it, so for them the function counts as before. Migration 0021's
trigger functions (`kudos_latest`) read it too, and the rebuild refills that table; any
later trigger function on a summary table follows the same convention.

Replaced in place (`CREATE OR REPLACE FUNCTION`): the triggers keep pointing at it, a running
bot notices nothing. SQLite's row-level triggers can't read a session setting; there the
rebuild writes only the tallies that differ (bot/reports/rebuild.py), so they fire for
those alone.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 22:30:00.000000
"""

from collections.abc import Sequence
from importlib import import_module

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `true`: missing_ok, NULL in a session that never set it.
QUIET = (
    "  IF current_setting('missionbot.rebuilding', true) = 'on' THEN\n    RETURN NULL;\n  END IF;\n"
)


def _histogram_function(quiet: bool) -> str:
    """Migration 0018's trigger function as its fill left it (no threshold), with (`quiet`)
    the setting read first."""
    histogram = import_module("bot.migrations.versions.20261206_0018_kudos_tally_histogram")
    function: str = histogram._function(None)
    if not quiet:
        return function
    quieted = function.replace("BEGIN\n", "BEGIN\n" + QUIET, 1)
    assert quieted != function, "0018's function has no BEGIN line"
    return quieted


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_histogram_function(quiet=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_histogram_function(quiet=False))
