"""The running bots' `deliver`, for helpers that wait without a handle on the bot.

`wait_until(...)` and `outbox_settled(...)` deliver through here before each look, so a
conversation test's announcements go out on its own thread (conftest.py's `Bot.deliver`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

_delivering: list[Callable[[], None]] = []


@contextmanager
def delivering(deliver: Callable[[], None]) -> Iterator[None]:
    """While inside, `deliver_all()` also calls `deliver`."""
    _delivering.append(deliver)
    try:
        yield
    finally:
        _delivering.remove(deliver)


def deliver_all() -> None:
    for deliver in list(_delivering):
        deliver()
