"""A fake Slack Web API that rate-limits chat.postMessage, in a process of its own.

    python bench/fanout_slack.py [--burst 100] [--rate 50] [--channel-interval 1]
    # prints its base URL, serves until terminated; GET /stats answers what it saw, as JSON

The limits, as Slack describes chat.postMessage ("Special" tier, docs.slack.dev rate limits):
about one message per second per channel, and a workspace-wide limit whose numbers Slack does
not publish. Here the workspace limit is a token bucket, `--burst` messages deep, refilled at
`--rate` per second; it starts full. A post over either limit is answered HTTP 429 with a
whole-seconds Retry-After (at least 1, as Slack sends it) and is not delivered. Every other
method answers as tests/support/fake_slack.py does.

For a fan-out of N channels that each post once, the per-channel limit never binds and the
floor is the bucket's: the last post cannot be accepted before (N - burst) / rate seconds after
the first, whatever the client does.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fake_slack_server import serve_until_terminated
from bot.simulator import Call, Failure, SlackSimulator

DEFAULT_BURST = 100
DEFAULT_RATE = 50.0
DEFAULT_CHANNEL_INTERVAL = 1.0


def floor_seconds(channels: int, *, burst: int, rate: float) -> float:
    """The least time from the first to the last of `channels` posts the bucket lets through."""
    return max(0, channels - burst) / rate


class RateLimitedSlack(SlackSimulator):
    """The simulator with Slack's chat.postMessage limits; counts posts per channel and 429s.

    Keeps no record of calls (a fan-out would fill memory for nothing); `stats()` is the record.
    """

    def __init__(
        self,
        *,
        burst: int = DEFAULT_BURST,
        rate: float = DEFAULT_RATE,
        channel_interval: float = DEFAULT_CHANNEL_INTERVAL,
    ) -> None:
        super().__init__()
        # http.server listens with a backlog of 5; a bot with dozens of posting threads opening
        # a connection per call would see refused or retransmitted SYNs that Slack never causes.
        self._server.socket.listen(256)
        self.burst = burst
        self.rate = rate
        self.channel_interval = channel_interval
        self._limits = threading.Lock()
        self._tokens = float(burst)
        self._refilled = time.monotonic()
        self._last_post: dict[str, float] = {}
        self._posts: Counter[str] = Counter()
        self._limited_workspace = 0
        self._limited_channel = 0
        self._requests = 0
        self._first_post: float | None = None
        self._last_post_at: float | None = None

    def _record(self, call: Call) -> Failure | None:
        if call.method != "chat.postMessage":
            return None
        channel = str(call.params.get("channel", ""))
        with self._limits:
            self._requests += 1
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            last = self._last_post.get(channel)
            if last is not None and now - last < self.channel_interval:
                self._limited_channel += 1
                return _too_many(self.channel_interval - (now - last))
            if self._tokens < 1:
                self._limited_workspace += 1
                return _too_many((1 - self._tokens) / self.rate)
            self._tokens -= 1
            self._last_post[channel] = now
            self._posts[channel] += 1
            wall = time.time()
            if self._first_post is None:
                self._first_post = wall
            self._last_post_at = wall
        return None

    def stats(self) -> dict[str, Any]:
        with self._limits:
            return {
                "burst": self.burst,
                "rate": self.rate,
                "channel_interval": self.channel_interval,
                "requests": self._requests,
                "posts": sum(self._posts.values()),
                "channels": len(self._posts),
                "per_channel": dict(self._posts),
                "rate_limited": self._limited_workspace + self._limited_channel,
                "rate_limited_workspace": self._limited_workspace,
                "rate_limited_channel": self._limited_channel,
                "first_post_at": self._first_post,
                "last_post_at": self._last_post_at,
            }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        base: Any = super()._handler_class()

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/stats":
                    self._send(404, b"not found", "text/plain")
                    return
                self._send(200, json.dumps(fake.stats()).encode(), "application/json")

        return Handler


def _too_many(wait: float) -> Failure:
    # Slack's Retry-After is whole seconds, and never 0 for a refused call.
    return Failure(status=429, error="ratelimited", retry_after=max(1, math.ceil(wait)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=DEFAULT_BURST)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE)
    parser.add_argument("--channel-interval", type=float, default=DEFAULT_CHANNEL_INTERVAL)
    args = parser.parse_args()
    serve_until_terminated(
        RateLimitedSlack(burst=args.burst, rate=args.rate, channel_interval=args.channel_interval)
    )


if __name__ == "__main__":
    main()
