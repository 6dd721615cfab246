"""The Alembic migrations; the wheel ships this folder as `bot.migrations` (see pyproject.toml)."""
