"""The Slack simulator in a process of its own, so it doesn't share the GIL with the bench.

python bench/fake_slack_server.py [--locale de-DE]   # prints its base URL, serves until terminated

`--locale`: every user Slack describes reads in that locale (`users.info` with
`include_locale=true`, as Slack answers it), to measure the request path for a reader of a
translated language.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.simulator import Call, SlackSimulator


class CountingSlack(SlackSimulator):
    """The simulator keeping counts, not calls (a long benchmark would fill memory): calls and
    429s by method, and which kudos (`marker` in the text) were announced in `channel` and
    when. GET /stats answers `stats()`, for a bench whose simulator runs in a child process.

    Subclasses count in their `_record`, under `self._stats`, calling `_count_announcements`
    for each call Slack answered."""

    def __init__(self, *, channel: str, marker: re.Pattern[str], **simulator: Any) -> None:
        super().__init__(**simulator)
        self._server.socket.listen(512)
        self.channel = channel
        self.marker = marker
        self._stats = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.limited: Counter[str] = Counter()
        self.announced: Counter[str] = Counter()
        self.announced_at: list[float] = []

    def _count_announcements(self, call: Call) -> None:
        in_channel = (
            call.method == "chat.postMessage" and call.params.get("channel") == self.channel
        ) or (call.method == "response_url" and call.params.get("response_type") == "in_channel")
        if not in_channel:
            return
        found = set(
            self.marker.findall(json.dumps(call.params.get("blocks") or call.params.get("text")))
        )
        self.announced.update(found)
        if found:
            self.announced_at.append(time.time())

    def stats(self) -> dict[str, Any]:
        with self._stats:
            return {
                "counts": dict(self.counts),
                "limited": dict(self.limited),
                "announced": dict(self.announced),
                "last_announced_at": max(self.announced_at, default=None),
            }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        base: Any = super()._handler_class()

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802
                self._send(200, json.dumps(fake.stats()).encode(), "application/json")

        return Handler


class LocaleSlack(SlackSimulator):
    """The simulator whose users all have Slack locale `locale` (none: Slack's answer as is)."""

    def __init__(self, *, locale: str | None, **simulator: Any) -> None:
        super().__init__(**simulator)
        self.locale = locale

    def _api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        answer = super()._api_users_info(params)
        asked = str(params.get("include_locale", "")).lower() in {"true", "1"}
        if self.locale and asked and answer.get("ok"):
            answer["user"] = {**answer["user"], "locale": self.locale}
        return answer


def serve_until_terminated(slack: SlackSimulator) -> None:
    """Print the base URL (the parent reads it), then serve until SIGTERM."""
    slack.start()
    print(slack.base_url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    slack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale", help="every user's Slack locale, e.g. de-DE")
    args = parser.parse_args()
    # No record of calls: a long benchmark would fill memory.
    serve_until_terminated(LocaleSlack(locale=args.locale, record_calls=False))


if __name__ == "__main__":
    main()
