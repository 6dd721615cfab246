"""languages: each person's Slack locale, a workspace's language, the mission's translations

`people.locale` is Slack's locale for a person (`include_locale=true`), negotiated to a shipped
language when read; `workspace_settings.language` is what a workspace's channels read in
(NULL: `MISSIONBOT_LANGUAGE`); `missions.language` names the mission file's own language,
and `missions.translations` / `principles.translations` keep its translations as JSON.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 07:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=35), nullable=True))
    with op.batch_alter_table("workspace_settings") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    with op.batch_alter_table("missions") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("translations", sa.Text(), nullable=True))
    with op.batch_alter_table("principles") as batch:
        batch.add_column(sa.Column("translations", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch: a batch copies and drops
    # `principles`, which the kudos' foreign key refuses while kudos exist.
    op.drop_column("principles", "translations")
    op.drop_column("missions", "translations")
    op.drop_column("missions", "language")
    op.drop_column("workspace_settings", "language")
    op.drop_column("people", "locale")
