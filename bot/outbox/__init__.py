"""The outbox: every message the bot sends into Slack on its own initiative, durably queued.

`kinds` is the one vocabulary of messages (`OutboxKind`); `queue` owns the table's operations
(enqueue in the caller's transaction, claim with leases, record outcomes, cancel, status);
`sender` drains it against a small `Transport`, pacing each channel, coalescing backlogs and
pausing a workspace after a 429 (`RateLimitGate`). Nothing here imports Slack: the Slack side
is bot/slack/transport.py and each feature's handlers in bot/slack/outbound/.
"""
