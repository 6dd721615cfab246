"""The shared pause after Slack answers 429: one gate per workspace, for every sending thread.

Slack limits chat.postMessage per app and workspace as well as per channel, so after a 429 the
other threads would only collect more of them. They all wait until the Retry-After has passed.
The morning posts (bot/daily/flows.py) and the outbox sender both wait at it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimitGate:
    """Closed for a while when Slack answers 429; sending threads wait here before each call.

    One per workspace (a bot token's limits are per workspace).
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._open_at = 0.0

    @property
    def closed(self) -> bool:
        return self.remaining() > 0

    def remaining(self) -> float:
        """Seconds until the gate opens again (0 when open)."""
        with self._lock:
            return max(self._open_at - self._monotonic(), 0.0)

    def close_for(self, seconds: float) -> None:
        with self._lock:
            self._open_at = max(self._open_at, self._monotonic() + seconds)

    def wait(self, stopping: threading.Event) -> bool:
        """Return once the gate is open (True), or when `stopping` is set (False)."""
        while True:
            remaining = self.remaining()
            if remaining <= 0:
                return True
            # Loop: another 429 may have closed the gate for longer meanwhile.
            if stopping.wait(remaining):
                return False


class WorkspaceGates:
    """A `RateLimitGate` per team, made on first use."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._gates: dict[str, RateLimitGate] = {}

    def __getitem__(self, team_id: str) -> RateLimitGate:
        with self._lock:
            gate = self._gates.get(team_id)
            if gate is None:
                gate = self._gates[team_id] = RateLimitGate(self._monotonic)
            return gate

    def closed_teams(self) -> set[str]:
        with self._lock:
            gates = list(self._gates.items())
        return {team for team, gate in gates if gate.closed}

    def next_open_in(self) -> float | None:
        """Seconds until the first closed gate opens; None when all are open."""
        with self._lock:
            gates = list(self._gates.values())
        waits = [wait for wait in (gate.remaining() for gate in gates) if wait > 0]
        return min(waits) if waits else None
