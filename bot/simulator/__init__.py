"""A Slack Web API simulator on 127.0.0.1: the one the console, the tests and the benchmarks use.

`SlackSimulator` (bot/simulator/server.py) serves Slack's routes — `/api/<method>`, the
`response_url`s (`/response/<n>`) and file upload URLs (`/upload/<id>`) — and answers each Web
API method the bot uses in Slack's shape. It can be as hard as real Slack where it matters:
latency, Slack's rate limits with 429 and Retry-After (bot/simulator/limits.py), scripted
failures, and a record of every call. The console's stand-in (bot/console/standin.py) is a
subclass answering from the demo workspace; the tests' fake (tests/support/fake_slack.py) is a
subclass that delivers the outbox while a test waits for a call.
"""

from bot.simulator.limits import Bucket, RateLimits
from bot.simulator.server import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Call,
    Failure,
    SlackSimulator,
    default_user,
)

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "Bucket",
    "Call",
    "Failure",
    "RateLimits",
    "SlackSimulator",
    "default_user",
]
