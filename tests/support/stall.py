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
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext

from bot.slack.deadline import SlackDeadline

if TYPE_CHECKING:
    from bot.runtime import Runtime

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


class StallProbe:
    """A thread noting the moments the machine held this process up, until `stop()`."""

    def __init__(self, on_stall: Callable[[Interval], None]) -> None:
        self._on_stall = on_stall
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-probe", daemon=True)

    def start(self) -> StallProbe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.is_set():
            due = time.monotonic() + STEP
            time.sleep(STEP)
            woke = time.monotonic()
            if woke - due > TOLERANCE:
                self._on_stall((due + TOLERANCE, woke))


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """A `Stopwatch` started now with its probe running; stopped when the block ends.

    Add the bot's Slack waits to `waits` for `describe()`.
    """
    watch = Stopwatch()
    probe = StallProbe(watch.stalls.append).start()
    try:
        yield watch
    finally:
        watch.stopped = time.monotonic()
        probe.stop()


class StallFreeClock:
    """The bot's ack clock in the tests (`AckClock`): monotonic seconds less the stalls so far.

    Under `serve` a request's three seconds are the wall clock's, as Slack's are. A test is
    about what the code does before its ack, and six workers on two cores hold a process up
    for a second at a time: on the plain clock a request then ran out of its budget before its
    first Slack call, and a test about the schedule's wording failed with "Slack is answering
    slowly". On this clock those moments don't count; Slack's own slowness, scripted by the
    tests that are about it, does, as on an idle machine.
    """

    def __init__(self) -> None:
        self._stalled = 0.0
        self._probe = StallProbe(self._add)

    def _add(self, stall: Interval) -> None:
        self._stalled += _length(stall)

    def __call__(self) -> float:
        return time.monotonic() - self._stalled

    def start(self) -> StallFreeClock:
        self._probe.start()
        return self

    def stop(self) -> None:
        self._probe.stop()


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


# How long Bolt waits for a listener's ack in the tests (its own default is Slack's 3 s).
BOLT_ACK_WAIT_S = 20.0


def wait_for_acks_on_a_stalled_machine(runtime: Runtime) -> None:
    """Bolt waits for a listener's ack on the wall clock (`ack_timeout`, 3 s). On a CI machine
    six workers share two cores and a worker stalls for a second at a time, so a listener that
    acks within the bot's budget on the stall-free clock could still miss Bolt's wall-clock
    wait, and its correct answer turned into "my answer will follow" (a race test on SQLite
    saw it). The bot's own 2.5 s is what the deadline tests check, on that stall-free clock;
    the tests about Bolt giving up shorten this wait again (`bolt_waits_for_acks`)."""
    bolt_waits_for_acks(runtime, BOLT_ACK_WAIT_S)


def bolt_waits_for_acks(runtime: Runtime, seconds: float) -> None:
    """How long Bolt waits for each listener's ack before it answers without it."""
    for listener in runtime.app._listeners:
        listener.ack_timeout = seconds  # type: ignore[assignment]
