"""The old home of the outbound side, kept importable while listeners rewritten on other
branches still import from it; new code imports from where each name now lives:
bot/slack/outbound/ (each feature's queueing and handlers, `create_sender`),
bot/slack/transport.py, bot/slack/confirm.py and bot/slack/api_errors.py.
Delete this module once nothing imports it.
"""

from __future__ import annotations

from bot.slack.api_errors import SLACK_FAILURES
from bot.slack.confirm import confirm
from bot.slack.outbound.kudos import queue_kudos, queue_withdrawal
from bot.slack.outbound.reports import queue_export, queue_shared

__all__ = [
    "SLACK_FAILURES",
    "confirm",
    "queue_export",
    "queue_kudos",
    "queue_shared",
    "queue_withdrawal",
]
