"""The old home of the reactions' outbound messages (now bot/slack/outbound/reactions.py), kept
importable while listeners rewritten on other branches still import from it. Delete this
module once nothing imports it.
"""

from __future__ import annotations

from bot.slack.outbound.reactions import queue_author_dm, queue_thread_update

__all__ = ["queue_author_dm", "queue_thread_update"]
