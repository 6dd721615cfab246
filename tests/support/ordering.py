"""The order the suite's tests are handed to the xdist workers in (tests/conftest.py)."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def interleaved(rest: list[T], spread: list[T], *, until: float) -> list[T]:
    """`rest` in its order with `spread` (in its order) placed evenly over its first `until`."""
    if not spread:
        return list(rest)
    span = max(int(len(rest) * until), 1)
    result: list[T] = []
    placed = 0
    for index, item in enumerate(rest):
        # Before the index-th of the rest, as many of the spread as are due by then (one
        # before the first, all before the span's end).
        due = min(len(spread), (index * len(spread)) // span + 1)
        result.extend(spread[placed:due])
        placed = max(placed, due)
        result.append(item)
    result.extend(spread[placed:])
    return result
