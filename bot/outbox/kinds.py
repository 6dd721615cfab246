"""The one vocabulary of outbox messages: every kind of message the bot sends on its own.

The values are stored in `outbox_messages.kind`, so they never change: a row queued by
yesterday's version must still be sent by today's (a renamed value would leave it pending with
no handler, which the sender warns about and `missionbot outbox` flags). A new kind is a new
member here and a handler registered by its feature (bot/slack/outbound/).

`subject_label` names what a row is about in the send log, `kind:id` style (`kudos:<group_id>`,
`post:<scheduled_posts id>`), so that a `grep` from a kudos or a post finds its Slack message.
"""

from __future__ import annotations

from enum import StrEnum

from bot.db.models import OutboxMessage


class OutboxKind(StrEnum):
    # A body written when it was queued, sent as it is (notes, onboarding DMs).
    MESSAGE = "message"
    # Kudos: the channel's announcement (coalescing a backlog), the same for one kudos
    # through its own command's response_url, the edit after an undo, a receiver's DM.
    KUDOS_ANNOUNCEMENT = "kudos_announcement"
    KUDOS_ANNOUNCEMENT_ALONE = "kudos_announcement_alone"
    KUDOS_EDIT = "kudos_edit"
    KUDOS_DM = "kudos_dm"
    # Principle reactions: the recognised message's thread reply, its author's one DM.
    REACTION_THREAD = "reaction_thread"
    REACTION_DM = "reaction_dm"
    # The principle of the day and the weekly digest (with its chart, in the digest's thread).
    DAILY_POST = "daily_post"
    WEEKLY_DIGEST = "weekly_digest"
    DIGEST_CHART = "digest_chart"
    # Reports: a leaderboard shared in the channel, a CSV into a DM, and the note after it.
    SHARED_REPORT = "shared_report"
    EXPORT_DM = "export_dm"
    COMMAND_REPLY = "command_reply"
    # The App Home: a person's Home published (views.publish, paced per workspace), and a
    # manager's promise-health chart uploaded before it so that it goes out in that publish.
    HOME_PUBLISH = "home_publish"
    HOME_CHART = "home_chart"


# What each kind's `subject` identifies. A kind left out has rows about nothing but
# themselves: those are named by their own row id (`outbox:<id>`).
_SUBJECTS: dict[str, str] = {
    OutboxKind.KUDOS_ANNOUNCEMENT: "kudos",
    OutboxKind.KUDOS_ANNOUNCEMENT_ALONE: "kudos",
    OutboxKind.KUDOS_EDIT: "kudos",
    OutboxKind.KUDOS_DM: "kudos",
    OutboxKind.REACTION_DM: "message",
    OutboxKind.DAILY_POST: "post",
    OutboxKind.WEEKLY_DIGEST: "post",
    OutboxKind.DIGEST_CHART: "post",
    OutboxKind.COMMAND_REPLY: "outbox",
    OutboxKind.HOME_PUBLISH: "home",
    OutboxKind.HOME_CHART: "home",
}


def subject_label(row: OutboxMessage) -> str:
    """What the row is about, for the log: `kudos:<group_id>`, `post:<id>`,
    `message:<channel>/<ts>` (a recognised message), or `outbox:<row id>` for a row about
    nothing else (a shared report, an export)."""
    name = _SUBJECTS.get(row.kind)
    if row.kind == OutboxKind.REACTION_THREAD and row.thread_ts:
        return f"message:{row.channel_id}/{row.thread_ts}"
    if row.subject and name:
        return f"{name}:{row.subject}"
    if row.subject:
        return row.subject  # already labelled where it was queued (`onboarding:<user>`)
    return f"outbox:{row.id}"
