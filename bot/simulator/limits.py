"""Slack's rate limits as the simulator enforces them: token buckets per method (and channel).

The numbers are Slack's (docs.slack.dev "Rate limits"; /work/shared/SLACK-FACTS.md):
chat.postMessage about one message a second per channel (short bursts allowed), users.info
Tier 4 (100+ a minute), users.list Tier 2 (20+ a minute), views.publish Tier 4. A refused call
is answered with HTTP 429 and a whole-seconds Retry-After, never 0.

`scale` (SLACK_RATE_SCALE) runs Slack's clock faster: at 10, every limit allows ten times the
calls a real second and a Retry-After counts tenths of a real second, so a bot paced by the same
scale keeps Slack's real ratios in a tenth of the time (tests and benchmarks).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class Bucket:
    """A token bucket: `burst` deep, refilled at `rate` a second; `take()` → 0 or the wait."""

    def __init__(
        self, rate: float, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.monotonic = rate, burst, monotonic
        self.tokens, self.at = float(burst), monotonic()

    def take(self) -> float:
        now = self.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass(frozen=True, slots=True)
class Limit:
    per_minute: float
    burst: int
    # chat.postMessage is limited per channel; the others per workspace.
    per_channel: bool = False


SLACK_LIMITS: Mapping[str, Limit] = {
    "chat.postMessage": Limit(per_minute=60, burst=1, per_channel=True),
    "users.info": Limit(per_minute=100, burst=20),
    "users.list": Limit(per_minute=20, burst=5),
    "views.publish": Limit(per_minute=100, burst=20),
}
# users.list answers at most this many members a page (Slack recommends no more than 200).
USERS_LIST_PAGE = 200


class RateLimits:
    """One bucket per limited method (per channel for posts); `check()` → None or Retry-After."""

    def __init__(
        self,
        limits: Mapping[str, Limit] = SLACK_LIMITS,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        scale: float = 1.0,
    ) -> None:
        self.limits = dict(limits)
        self.scale = scale
        self.monotonic = monotonic
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def check(self, method: str, channel: str = "") -> int | None:
        """Spend one call of `method`; the Retry-After in seconds when Slack would refuse it."""
        limit = self.limits.get(method)
        if limit is None:
            return None
        key = (method, channel if limit.per_channel else "")
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = Bucket(limit.per_minute * self.scale / 60, limit.burst, self.monotonic)
                self._buckets[key] = bucket
            wait = bucket.take()
        # In Slack's seconds: a bot at the same scale waits Retry-After / scale real seconds.
        return max(1, math.ceil(wait * self.scale)) if wait else None
