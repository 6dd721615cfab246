"""Block Kit for reports: the leaderboard, the principle report, the weekly digest, exports.

People are rendered as `<@U…>` mentions, which Slack turns into names itself: no lookup per
row. Lists go into as few sections as fit Slack's 3000-character text limit.

Each builder takes the `Speech` it is read in (`t`): the reader's for an answer only they see,
the workspace's for a leaderboard shared in a channel and for the digest, never the language of
whoever asked. Principles are shown in that language where the mission file translates them.
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
    period_label,
    section,
)
from bot.blocks.kudos import mentions
from bot.daily.digest import Digest
from bot.i18n.speech import ENGLISH, Speech
from bot.mission.service import PrincipleInfo
from bot.reports.leaderboard import Leaderboard, PrincipleCount, PrincipleReport, Role, Standing
from bot.reports.periods import Period
from bot.reports.summaries import NOT_RECOGNISED_DAYS, Participation

HIGHLIGHT_QUOTE_LIMIT = 300


def principle_name(principle: PrincipleInfo, t: Speech = ENGLISH) -> str:
    """Its emoji and title, in `t`'s language where the mission file translates it."""
    principle = principle.in_language(t.language)
    emoji = f"{principle.emoji} " if principle.emoji else ""
    return f"{emoji}{escape(principle.title)}"


def kudos_count(n: int, t: Speech = ENGLISH) -> str:
    return t.ngettext("{count} kudos", "{count} kudos", n).format(count=t.number(n))


def _standing_line(standing: Standing, t: Speech) -> str:
    line = f"`{standing.rank:>2}.` <@{standing.user_id}> — {kudos_count(standing.count, t)}"
    if standing.split:
        parts = ", ".join(f"{principle_name(p, t)} {t.number(n)}" for p, n in standing.split)
        line += f"\n        _{parts}_"
    return line


def leaderboard_title(board: Leaderboard, t: Speech = ENGLISH) -> str:
    _ = t.gettext
    period = period_label(board.period, t)
    givers = board.role == Role.GIVERS
    if board.principle is None:
        title = _("Top givers — {period}") if givers else _("Top receivers — {period}")
        return title.format(period=period)
    title = (
        _("Top givers for {principle} — {period}")
        if givers
        else _("Top receivers for {principle} — {period}")
    )
    return title.format(principle=principle_name(board.principle, t), period=period)


def leaderboard_message(
    board: Leaderboard, *, shared_by: str | None = None, t: Speech = ENGLISH
) -> Message:
    """The board; for the caller also their own rank when it is outside the top."""
    _ = t.gettext
    givers = board.role == Role.GIVERS
    period = period_label(board.period, t)
    blocks: list[Block] = [section(f":trophy: *{leaderboard_title(board, t)}*")]
    if not board.entries:
        none = (
            _("No kudos given in {period} yet.")
            if givers
            else _("No kudos received in {period} yet.")
        )
        blocks.append(section(none.format(period=period)))
    else:
        blocks.extend(packed_sections(_standing_line(s, t) for s in board.entries))
    if shared_by is None and board.caller_id:
        if board.caller is not None:
            you = (
                t.ngettext(
                    "You are `#{rank}` of {people} with {count} kudos given.",
                    "You are `#{rank}` of {people} with {count} kudos given.",
                    board.caller.count,
                )
                if givers
                else t.ngettext(
                    "You are `#{rank}` of {people} with {count} kudos received.",
                    "You are `#{rank}` of {people} with {count} kudos received.",
                    board.caller.count,
                )
            )
            blocks.append(
                section(
                    you.format(
                        rank=t.number(board.caller.rank),
                        people=t.number(board.people),
                        count=t.number(board.caller.count),
                    )
                )
            )
        elif board.entries and board.caller_id not in {s.user_id for s in board.entries}:
            none = (
                _("You have no kudos given in {period} yet.")
                if givers
                else _("You have no kudos received in {period} yet.")
            )
            blocks.append(section(none.format(period=period)))
    by = (
        t.ngettext(
            "{kudos} given by {count} person", "{kudos} given by {count} people", board.people
        )
        if givers
        else t.ngettext(
            "{kudos} received by {count} person",
            "{kudos} received by {count} people",
            board.people,
        )
    )
    footer = by.format(kudos=kudos_count(board.total, t), count=t.number(board.people))
    if shared_by:
        footer += " · " + _("shared by {person}").format(person=f"<@{shared_by}>")
    footer += " · " + _("`/kudos leaderboard [period] [#principle] [givers]`")
    blocks.append(context(footer))
    title = _("Top givers — {period}") if givers else _("Top receivers — {period}")
    lines = [title.format(period=period)] + [
        f"{s.rank}. <@{s.user_id}> {t.number(s.count)}" for s in board.entries[:5]
    ]
    return Message(text=clip("\n".join(lines), 1000), blocks=as_dicts(blocks))


def _change(count: PrincipleCount, t: Speech) -> str:
    if count.change is None:
        return ""
    if count.change == 0:
        return " " + t.gettext("(same as before)")
    sign = "+" if count.change > 0 else "-"
    return f" ({sign}{t.number(abs(count.change))})"


def principle_lines(counts: Sequence[PrincipleCount], t: Speech = ENGLISH) -> list[str]:
    retired = " " + t.gettext("_(retired)_")
    return [
        f"{principle_name(c.principle, t)}{retired if c.retired else ''} — "
        f"*{t.number(c.count)}*{_change(c, t)}"
        for c in counts
    ]


def quiet_heading(t: Speech = ENGLISH) -> str:
    return t.gettext(":zzz: *Quiet:* nobody was recognised for")


def quiet_lines(quiet: Sequence[PrincipleInfo], t: Speech = ENGLISH) -> list[str]:
    """The quiet principles, one a line, for `packed_sections` to spread over sections: as one
    line they were clipped at a section's 3,000 characters, dropping names."""
    return [quiet_heading(t)] + [f"• {principle_name(p, t)} `#{p.key}`" for p in quiet]


def _within(before: Sequence[Block], more: Sequence[Block], t: Speech) -> list[Block]:
    """`more` cut to what fits a message after `before` and a closing context line."""
    room = MESSAGE_BLOCK_LIMIT - len(before) - 1
    if len(more) <= room:
        return list(more)
    return [
        *more[: max(room - 1, 0)],
        context(t.gettext("And more: `/mission` lists every principle.")),
    ]


def principle_report_message(report: PrincipleReport, t: Speech = ENGLISH) -> Message:
    _ = t.gettext
    period = period_label(report.period, t)
    heading = _(":bar_chart: *Kudos by principle — {period}*").format(period=period)
    blocks: list[Block] = [section(heading)]
    shown = [c for c in report.counts if c.count or c.previous]
    if shown:
        blocks.extend(packed_sections(principle_lines(shown, t)))
    else:
        blocks.append(section(_("No kudos in {period} yet.").format(period=period)))
    if report.quiet:
        blocks.extend(_within(blocks, packed_sections(quiet_lines(report.quiet, t)), t))
    total = kudos_count(report.total, t)
    if report.previous:
        footer = _("{kudos} in {period}; changes against {previous}").format(
            kudos=total, period=period, previous=period_label(report.previous, t)
        )
    else:
        footer = _("{kudos} in {period}").format(kudos=total, period=period)
    blocks.append(context(footer))
    text = _("Kudos by principle, {period}: {count} in all").format(
        period=period, count=t.number(report.total)
    )
    return Message(text=text, blocks=as_dicts(blocks))


def digest_message(digest: Digest, t: Speech = ENGLISH) -> Message:
    """The weekly digest: last week by principle, a few highlighted kudos, the quiet ones; in
    the workspace language (`t`), as everything a channel reads."""
    _ = t.gettext
    report = digest.report
    period = period_label(report.period, t)
    blocks: list[Block] = [
        section(_(":newspaper: *Last week in kudos — {period}*").format(period=period)),
    ]
    shown = [c for c in report.counts if c.count]
    if shown:
        blocks.extend(packed_sections(principle_lines(shown, t)))
    else:
        blocks.append(section(_("No kudos last week. Who lived our principles this week?")))
    for kudos in digest.highlights:
        quote = escape(clip(kudos.message, HIGHLIGHT_QUOTE_LIMIT)).replace("\n", "\n>")
        said = _(":sparkles: {giver} to {receivers} for *{principle}*").format(
            giver=f"<@{kudos.giver_id}>",
            receivers=mentions(kudos.receiver_ids, t),
            principle=principle_name(kudos.principle, t),
        )
        blocks.append(section(f"{said}\n>{quote}"))
    if report.quiet:
        gone = {p.id for p in digest.gone_quiet}
        four_weeks = " " + _("— _no kudos for four weeks_")
        lines = [
            line + (four_weeks if p.id in gone else "")
            for line, p in zip(quiet_lines(report.quiet, t)[1:], report.quiet, strict=True)
        ]
        lines.insert(0, quiet_heading(t))
        blocks.extend(_within(blocks, packed_sections(lines), t))
    blocks.extend(
        participation_blocks(digest.participation, digest.dashboard_url, _("last week"), t)
    )
    blocks.append(
        context(_("`/kudos` to recognise someone · `/kudos principles week` for details"))
    )
    text = _("Last week in kudos ({period}): {count} in all").format(
        period=period, count=t.number(report.total)
    )
    return Message(text=text, blocks=as_dicts(blocks))


def leaderboard_shared(channel_id: str, t: Speech = ENGLISH) -> Message:
    text = t.gettext(":trophy: Sharing the leaderboard in {channel} now.")
    return _notice(text.format(channel=f"<#{channel_id}>"))


def export_started(period: Period, t: Speech = ENGLISH) -> Message:
    text = t.gettext(":hourglass: Preparing the kudos of {period}: I'll DM you the CSV.")
    return _notice(text.format(period=period_label(period, t)))


def _notice(text: str) -> Message:
    return Message(text=text, blocks=as_dicts([section(text)]))


def _share(part: int, before: int | None, active: int, t: Speech) -> str:
    """`42% (▲ 5 pts)`: a share of the active people, and its change in percentage points."""
    now = Participation.share(part, active) or 0.0
    earlier = Participation.share(before, active)
    if earlier is None:
        return t.percent(now)
    points = round((now - earlier) * 100)
    if points == 0:
        change = t.gettext("no change")
    else:
        change = t.ngettext("{arrow} {count} pt", "{arrow} {count} pts", abs(points)).format(
            arrow="▲" if points > 0 else "▼", count=t.number(abs(points))
        )
    return f"{t.percent(now)} ({change})"


def participation_blocks(
    found: Participation | None, dashboard_url: str | None, period: str, t: Speech = ENGLISH
) -> list[Block]:
    """Managers' participation: who gave and who received of the active people, against the
    period before, the people nobody recognised in 60 days, and the dashboard link if any.
    `period` is already in `t`'s language."""
    _ = t.gettext
    if found is None:
        return []
    if not found.active:
        lines = [_("*Participation:* no active people known yet.")]
    else:
        lines = [
            t.ngettext(
                "*Participation, {period}:* {gave} of {count} active person gave kudos, "
                "{received} received",
                "*Participation, {period}:* {gave} of {count} active people gave kudos, "
                "{received} received",
                found.active,
            ).format(
                period=period,
                gave=_share(found.gave, found.gave_before, found.active, t),
                count=t.number(found.active),
                received=_share(found.received, found.received_before, found.active, t),
            ),
            t.ngettext(
                "{count} not recognised in {days} days",
                "{count} not recognised in {days} days",
                found.not_recognised,
            ).format(count=t.number(found.not_recognised), days=NOT_RECOGNISED_DAYS),
        ]
    if dashboard_url:
        link = _("Open the dashboard")
        lines.append(f"<{dashboard_url}|{link}>")
    return [section("\n".join(lines))]
