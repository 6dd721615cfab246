"""The migration scripts, oldest first by file name; Alembic skips this file."""
