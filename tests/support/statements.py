"""The SQL statements a piece of work sends, counted with SQLAlchemy's `before_cursor_execute`
event: what the tests that keep the language from costing a statement of its own look at."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, event


def statements_of(engine: Engine, work: Callable[[], object]) -> list[str]:
    """Every statement `engine` sends while `work` runs, in order."""
    sent: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        sent.append(" ".join(statement.lower().split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return sent


def reads_language(statement: str) -> bool:
    """It reads a language: the workspace's chosen one, or a person's Slack locale."""
    return "workspace_settings" in statement or "people.locale" in statement


def language_only(statement: str, *, along_with: tuple[str, ...]) -> bool:
    """A statement that reads a language and nothing the work reads anyway (`along_with`: the
    tables or columns of the row it is to ride with): one the work would not send without
    the language."""
    return reads_language(statement) and not any(other in statement for other in along_with)
