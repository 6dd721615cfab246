"""How long a request took the code, not the machine: a stopwatch that leaves out the stalls.

The tests run six at a time on a shared two-core machine, often at a load average of 15 or
more. There a request whose code needs 0.5 s of CPU can take 2 s on the clock, while waiting on
Slack (a socket timeout) takes the same time whatever the load. `Stopwatch` tells the two apart:

* a probe thread sleeps in steps of `STEP` and notes each time it woke later than it asked,
  beyond what Python's own thread switching explains (`2 * sys.getswitchinterval()`): those
  are moments when the test process wanted to run and the machine didn't let it;
* the bot's own record of its Slack waits before the ack (`SlackDeadline.waits`, each call's
  start and end) is shown beside it, so a failure says where the time went.

`code_time()` is the time on the clock less the stalls. Stalls during a Slack wait are left
out too: the simulated Slack answers from this same process, so a busy machine stretches its
0.6 s answers as well (four of them measured 2.77 s at load 10). On an idle machine nothing
stalls, so a request that waits 3 s on Slack before its ack fails as on the plain clock; under
load the probe wakes far more readily than a busy thread runs (it is rarely over 25% late, at
load 30), so such a request still measures well over 2.5 s.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltContext

from bot.slack.deadline import SlackDeadline

# How long the probe sleeps between looks at the clock.
STEP = 0.005
# Waking this much late is Python's thread switching (the GIL), which the code's own work
# causes too: only lateness beyond it is the machine's.
TOLERANCE = 2 * sys.getswitchinterval()

Interval = tuple[float, float]


@dataclass
class Stopwatch:
    started: float = field(default_factory=time.monotonic)
    stopped: float | None = None
    # When the process could not run: from when the probe should have woken to when it did.
    stalls: list[Interval] = field(default_factory=list)
    # The bot's Slack waits before the ack, to say where the time went.
    waits: list[Interval] = field(default_factory=list)

    def took(self) -> float:
        """The clock's time, start to stop."""
        return (self.stopped or time.monotonic()) - self.started

    def stalled(self, until: float | None = None) -> float:
        """Seconds the machine held the process up, from the start to `until`."""
        end = until if until is not None else (self.stopped or time.monotonic())
        total = 0.0
        for begin, finish in self.stalls:
            piece = (max(begin, self.started), min(finish, end))
            if piece[0] < piece[1]:
                total += _length(piece)
        return total

    def code_time(self, until: float | None = None) -> float:
        """The time the code took, start to `until` (or stop): the clock's, less the stalls."""
        end = until if until is not None else (self.stopped or time.monotonic())
        return end - self.started - self.stalled(end)

    def waited(self) -> float:
        return sum(_length(w) for w in self.waits)

    def describe(self) -> str:
        return (
            f"{self.took():.2f}s on the clock, {self.stalled():.2f}s of it the machine's stalls, "
            f"{self.waited():.2f}s waiting on Slack"
        )


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """A `Stopwatch` started now with its probe running; stopped when the block ends.

    Add the bot's Slack waits to `waits` for `describe()`.
    """
    watch = Stopwatch()
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            due = time.monotonic() + STEP
            time.sleep(STEP)
            woke = time.monotonic()
            if woke - due > TOLERANCE:
                watch.stalls.append((due + TOLERANCE, woke))

    thread = threading.Thread(target=probe, name="stall-probe", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        watch.stopped = time.monotonic()
        done.set()
        thread.join()


def _length(interval: Interval) -> float:
    return max(0.0, interval[1] - interval[0])


def note_deadlines(app: App) -> list[SlackDeadline]:
    """Each request's `SlackDeadline` as the bot made it (its record of Slack waits), in order.

    A middleware appended after the bot's own: it only looks at what they put in the context.
    """
    seen: list[SlackDeadline] = []

    @app.middleware
    def note_deadline(context: BoltContext, next: Callable[[], Any]) -> Any:
        if "deadline" in context:
            seen.append(context["deadline"])
        return next()

    return seen


def slack_waits(deadlines: Iterable[SlackDeadline]) -> list[Interval]:
    return [wait for deadline in deadlines for wait in deadline.waits]
