"""The Slack simulator in a process of its own, so it doesn't share the GIL with the bench.

python bench/fake_slack_server.py   # prints its base URL, serves until terminated
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.simulator import SlackSimulator


def serve_until_terminated(slack: SlackSimulator) -> None:
    """Print the base URL (the parent reads it), then serve until SIGTERM."""
    slack.start()
    print(slack.base_url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    slack.stop()


def main() -> None:
    # No record of calls: a long benchmark would fill memory.
    serve_until_terminated(SlackSimulator(record_calls=False))


if __name__ == "__main__":
    main()
