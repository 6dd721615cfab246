"""The baseline: a Bolt app that only acknowledges, on waitress with the bot's thread count.

python bench/bare_bolt.py PORT THREADS
"""

from __future__ import annotations

import logging
import os
import sys

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress import serve


def main() -> None:
    port, threads = int(sys.argv[1]), int(sys.argv[2])
    logging.basicConfig(level=logging.WARNING)
    app = App(
        client=WebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    )

    @app.command("/mission")
    @app.command("/kudos")
    def only_ack(ack: Ack) -> None:
        ack()

    serve(SlackRequestHandler(app), host="127.0.0.1", port=port, threads=threads, ident="bare")


if __name__ == "__main__":
    main()
