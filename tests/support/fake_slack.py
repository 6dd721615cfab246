"""The tests' Slack: the package's simulator (bot/simulator/) with a way to wait for a call.

Everything Slack-shaped — routes, answers, call records, scripted failures (`fail`, `slow`,
`recover`), latency, rate limits — is the simulator's, the same one the console and bench use.
What a test adds is `wait_for(method, count)`: before looking, it delivers what the bot has to
deliver (`deliver`, set by the `bot` fixture to `Bot.deliver`: the listeners finish and the
outbox is drained on the test's thread), so a conversation test never polls for a sender
thread. Latency stays off unless FAKE_SLACK_LATENCY_MS=100-300 (the `slack` fixture) or a test
about latency asks for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.simulator import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Call,
    Failure,
    RateLimits,
    SlackSimulator,
    default_user,
)

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "Call",
    "Failure",
    "FakeSlack",
    "RateLimits",
    "default_user",
]

# While a wanted call is missing, how long to wait for one before delivering again (a retry
# coming due, a scheduled job, a sender thread in a test about concurrency).
RECHECK_S = 0.05


# How long a test waits for a call the bot makes after its ack. A passing test returns the
# moment the call is there; the bound only has to outlast a CI machine shared by other jobs
# (seen: 5 s was too short at load 20 on two cores), so it is generous.
WAIT_S = 20.0


class FakeSlack(SlackSimulator):
    def __init__(
        self,
        *,
        latency: tuple[float, float] | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        super().__init__(latency=latency, rate_limits=rate_limits)
        # What brings the bot's pending work to Slack; the `bot` fixture sets it.
        self.deliver: Callable[[], None] | None = None

    def start(self) -> FakeSlack:
        super().start()
        return self

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = WAIT_S,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """The calls of `method` (those `where` accepts) once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            if self.deliver is not None:
                self.deliver()
            with self._lock:
                found = [
                    c for c in self._calls if c.method == method and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} {method} call(s) within {timeout}s, got {len(found)}: "
                        f"{[c.method for c in self._calls]}"
                    )
                self._lock.wait(min(remaining, RECHECK_S) if self.deliver else remaining)
