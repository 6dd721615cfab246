"""The outbox: every message the bot sends into Slack on its own initiative, durably queued.

`queue` owns the table's operations (enqueue in the caller's transaction, claim with leases,
record outcomes, cancel, status); `sender` drains it against a small `Transport`, pacing each
channel, coalescing backlogs and pausing a workspace after a 429 (`RateLimitGate`). Nothing
here imports Slack: bot/slack/delivery.py is the Slack side (the transport, a handler per kind).
"""
