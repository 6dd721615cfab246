"""Block Kit for reports: the leaderboard, the principle report, the weekly digest, exports.

People are rendered as `<@U…>` mentions, which Slack turns into names itself: no lookup per
row. Lists go into as few sections as fit Slack's 3000-character text limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    MESSAGE_BLOCK_LIMIT,
    Message,
    as_dicts,
    clip,
    context,
    escape,
    packed_sections,
    section,
)
from bot.blocks.kudos import mentions
from bot.daily.digest import Digest
from bot.mission.service import PrincipleInfo
from bot.reports.leaderboard import Leaderboard, PrincipleCount, PrincipleReport, Role, Standing
from bot.reports.periods import Period
from bot.reports.summaries import NOT_RECOGNISED_DAYS, Participation

HIGHLIGHT_QUOTE_LIMIT = 300


def principle_name(principle: PrincipleInfo) -> str:
    emoji = f"{principle.emoji} " if principle.emoji else ""
    return f"{emoji}{escape(principle.title)}"


def kudos_count(n: int) -> str:
    return f"{n} kudos"


def _role_words(role: Role) -> tuple[str, str]:
    """(title, verb) for the board."""
    if role == Role.GIVERS:
        return "Top givers", "given"
    return "Top receivers", "received"


def _standing_line(standing: Standing) -> str:
    line = f"`{standing.rank:>2}.` <@{standing.user_id}> — {kudos_count(standing.count)}"
    if standing.split:
        parts = ", ".join(f"{principle_name(p)} {n}" for p, n in standing.split)
        line += f"\n        _{parts}_"
    return line


def leaderboard_title(board: Leaderboard) -> str:
    title, _verb = _role_words(board.role)
    about = f" for {principle_name(board.principle)}" if board.principle else ""
    return f"{title}{about} — {board.period.label}"


def leaderboard_message(board: Leaderboard, *, shared_by: str | None = None) -> Message:
    """The board; for the caller also their own rank when it is outside the top."""
    title, verb = _role_words(board.role)
    blocks: list[Block] = [section(f":trophy: *{leaderboard_title(board)}*")]
    if not board.entries:
        blocks.append(section(f"No kudos {verb} in {board.period.label} yet."))
    else:
        blocks.extend(packed_sections(_standing_line(s) for s in board.entries))
    if shared_by is None and board.caller_id:
        if board.caller is not None:
            blocks.append(
                section(
                    f"You are `#{board.caller.rank}` of {board.people} with "
                    f"{kudos_count(board.caller.count)} {verb}."
                )
            )
        elif board.entries and board.caller_id not in {s.user_id for s in board.entries}:
            blocks.append(section(f"You have no kudos {verb} in {board.period.label} yet."))
    people = "person" if board.people == 1 else "people"
    footer = f"{kudos_count(board.total)} {verb} by {board.people} {people}"
    if shared_by:
        footer += f" · shared by <@{shared_by}>"
    footer += " · `/kudos leaderboard [period] [#principle] [givers]`"
    blocks.append(context(footer))
    lines = [f"{title} — {board.period.label}"] + [
        f"{s.rank}. <@{s.user_id}> {s.count}" for s in board.entries[:5]
    ]
    return Message(text=clip("\n".join(lines), 1000), blocks=as_dicts(blocks))


def _change(count: PrincipleCount) -> str:
    if count.change is None:
        return ""
    if count.change == 0:
        return " (same as before)"
    return f" ({count.change:+d})"


def principle_lines(counts: Sequence[PrincipleCount]) -> list[str]:
    return [
        f"{principle_name(c.principle)}{' _(retired)_' if c.retired else ''} — "
        f"*{c.count}*{_change(c)}"
        for c in counts
    ]


def quiet_lines(quiet: Sequence[PrincipleInfo]) -> list[str]:
    """The quiet principles, one a line, for `packed_sections` to spread over sections: as one
    line they were clipped at a section's 3,000 characters, dropping names."""
    return [":zzz: *Quiet:* nobody was recognised for"] + [
        f"• {principle_name(p)} `#{p.key}`" for p in quiet
    ]


def _within(before: Sequence[Block], more: Sequence[Block]) -> list[Block]:
    """`more` cut to what fits a message after `before` and a closing context line."""
    room = MESSAGE_BLOCK_LIMIT - len(before) - 1
    if len(more) <= room:
        return list(more)
    return [*more[: max(room - 1, 0)], context("And more: `/mission` lists every principle.")]


def principle_report_message(report: PrincipleReport) -> Message:
    blocks: list[Block] = [section(f":bar_chart: *Kudos by principle — {report.period.label}*")]
    shown = [c for c in report.counts if c.count or c.previous]
    if shown:
        blocks.extend(packed_sections(principle_lines(shown)))
    else:
        blocks.append(section(f"No kudos in {report.period.label} yet."))
    if report.quiet:
        blocks.extend(_within(blocks, packed_sections(quiet_lines(report.quiet))))
    compared = f"; changes against {report.previous.label}" if report.previous else ""
    blocks.append(context(f"{kudos_count(report.total)} in {report.period.label}{compared}"))
    text = f"Kudos by principle, {report.period.label}: {report.total} in all"
    return Message(text=text, blocks=as_dicts(blocks))


def digest_message(digest: Digest) -> Message:
    """The weekly digest: last week by principle, a few highlighted kudos, the quiet ones."""
    report = digest.report
    blocks: list[Block] = [
        section(f":newspaper: *Last week in kudos — {report.period.label}*"),
    ]
    shown = [c for c in report.counts if c.count]
    if shown:
        blocks.extend(packed_sections(principle_lines(shown)))
    else:
        blocks.append(section("No kudos last week. Who lived our principles this week?"))
    for kudos in digest.highlights:
        quote = escape(clip(kudos.message, HIGHLIGHT_QUOTE_LIMIT)).replace("\n", "\n>")
        blocks.append(
            section(
                f":sparkles: <@{kudos.giver_id}> to {mentions(kudos.receiver_ids)} for "
                f"*{principle_name(kudos.principle)}*\n>{quote}"
            )
        )
    if report.quiet:
        gone = {p.id for p in digest.gone_quiet}
        lines = [
            line + (" — _no kudos for four weeks_" if p.id in gone else "")
            for line, p in zip(quiet_lines(report.quiet)[1:], report.quiet, strict=True)
        ]
        lines.insert(0, quiet_lines(())[0])
        blocks.extend(_within(blocks, packed_sections(lines)))
    blocks.extend(participation_blocks(digest.participation, digest.dashboard_url, "last week"))
    blocks.append(context("`/kudos` to recognise someone · `/kudos principles week` for details"))
    text = f"Last week in kudos ({report.period.label}): {report.total} in all"
    return Message(text=text, blocks=as_dicts(blocks))


def leaderboard_shared(channel_id: str) -> Message:
    return _notice(f":trophy: Sharing the leaderboard in <#{channel_id}> now.")


def export_started(period: Period) -> Message:
    return _notice(f":hourglass: Preparing the kudos of {period.label}: I'll DM you the CSV.")


def _notice(text: str) -> Message:
    return Message(text=text, blocks=as_dicts([section(text)]))


def _share(part: int, before: int | None, active: int) -> str:
    """`42% (▲ 5 pts)`: a share of the active people, and its change in percentage points."""
    now = Participation.share(part, active) or 0.0
    earlier = Participation.share(before, active)
    if earlier is None:
        return f"{now:.0%}"
    points = round((now - earlier) * 100)
    change = "no change" if points == 0 else f"{'▲' if points > 0 else '▼'} {abs(points)} pts"
    return f"{now:.0%} ({change})"


def participation_blocks(
    found: Participation | None, dashboard_url: str | None, period: str
) -> list[Block]:
    """Managers' participation: who gave and who received of the active people, against the
    period before, the people nobody recognised in 60 days, and the dashboard link if any."""
    if found is None:
        return []
    if not found.active:
        lines = ["*Participation:* no active people known yet."]
    else:
        lines = [
            f"*Participation, {period}:* {_share(found.gave, found.gave_before, found.active)} "
            f"of {found.active} active people gave kudos, "
            f"{_share(found.received, found.received_before, found.active)} received",
            f"{found.not_recognised} not recognised in {NOT_RECOGNISED_DAYS} days",
        ]
    if dashboard_url:
        lines.append(f"<{dashboard_url}|Open the dashboard>")
    return [section("\n".join(lines))]
