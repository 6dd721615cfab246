"""Storage: the SQLAlchemy models, the engine and sessions, and the migrations runner."""

from bot.db.engine import Database

__all__ = ["Database"]
