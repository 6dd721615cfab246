"""Block Kit for promise health (`/kudos health`, the managers' App Home): per principle
numbers and a 12-week sparkline, the quiet principles, the reciprocal pairs, the chart.

Managers only: the pairs name people. Principles are listed most recognised first; past
`HEALTH_LINES` the rest are counted in one line, so the message keeps within 50 blocks even
with 250 principles (the CSV from `missionbot health` has them all). In the reader's language
(`t`); the CSV stays English, an interface.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ImageBlock

from bot.blocks.common import (
    MESSAGE_BLOCK_LIMIT,
    Message,
    as_dicts,
    context,
    header,
    period_label,
    section,
)
from bot.blocks.common import packed_sections as packed
from bot.blocks.reports import principle_name, quiet_lines
from bot.i18n.speech import ENGLISH, N_, Speech
from bot.reports.health import RECIPROCITY_MIN, Health, Pair, PrincipleHealth, Trend
from bot.reports.periods import Period

HEALTH_LINES = 25
SPARKS = "▁▂▃▄▅▆▇█"
CHART_ALT = N_("Kudos per principle per week over the last 12 weeks")
CHART_TITLE = N_("The last 12 weeks")


def sparkline(weekly: tuple[int, ...]) -> str:
    """The 12 weeks as block characters, scaled to the row's own peak (blank weeks lowest)."""
    peak = max(weekly, default=0)
    if not peak:
        return SPARKS[0] * len(weekly)
    return "".join(SPARKS[round(n / peak * (len(SPARKS) - 1))] for n in weekly)


def _share(value: float | None, t: Speech) -> str:
    return "—" if value is None else t.percent(value)


def principle_health_line(row: PrincipleHealth, t: Speech = ENGLISH) -> str:
    retired = " " + t.gettext("_(retired)_") if row.retired else ""
    numbers = t.gettext("{givers} gave, {receivers} received · top 5 {share}").format(
        givers=t.number(row.givers),
        receivers=t.number(row.receivers),
        share=_share(row.top_share, t),
    )
    return (
        f"{principle_name(row.principle, t)}{retired} — *{t.number(row.kudos)}* · "
        f"{numbers} · `{sparkline(row.weekly)}`"
    )


def pair_line(pair: Pair, t: Speech = ENGLISH) -> str:
    return t.gettext(
        "{first} ⇄ {second} — {first_to_second} and {second_to_first} kudos to each other, "
        "of {first_gave} and {second_gave} they gave"
    ).format(
        first=f"<@{pair.first}>",
        second=f"<@{pair.second}>",
        first_to_second=t.number(pair.first_to_second),
        second_to_first=t.number(pair.second_to_first),
        first_gave=t.number(pair.first_gave),
        second_gave=t.number(pair.second_gave),
    )


def health_blocks(
    health: Health, *, room: int = MESSAGE_BLOCK_LIMIT, t: Speech = ENGLISH
) -> list[Block]:
    """The report's blocks (no header), at most `room` of them."""
    _ = t.gettext
    if not health.principles:
        return [section(_("_No principles yet: add some to the mission file._"))]
    period = period_label(health.period, t)
    summary = t.ngettext(
        "*{kudos}* kudos in {period}: {givers} people gave, {receivers} received; "
        "the top 5 receivers got {share}.",
        "*{kudos}* kudos in {period}: {givers} people gave, {receivers} received; "
        "the top 5 receivers got {share}.",
        health.kudos,
    ).format(
        kudos=t.number(health.kudos),
        period=period,
        givers=t.number(health.givers),
        receivers=t.number(health.receivers),
        share=_share(health.top_share, t),
    )
    if not health.kudos:
        summary = _("No kudos in {period}.").format(period=period)
        if not health.weekly_total:
            summary += " " + _(
                "Nothing in the last 12 weeks either: every view fills in with the first."
            )
    ranked = sorted(health.principles, key=lambda r: (-r.kudos, -sum(r.weekly), r.retired))
    shown = [r for r in ranked[:HEALTH_LINES] if r.kudos or any(r.weekly)]
    lines = [principle_health_line(r, t) for r in shown]
    hidden = len([r for r in health.principles if r.kudos or any(r.weekly)]) - len(shown)
    if hidden > 0:
        lines.append(
            t.ngettext(
                "_…and {count} more principle: `missionbot health --format csv` has all._",
                "_…and {count} more principles: `missionbot health --format csv` has all._",
                hidden,
            ).format(count=t.number(hidden))
        )
    blocks: list[Block] = [section(summary)]
    if lines:
        blocks.append(
            context(_("Per principle: kudos · givers, receivers · top 5's share · 12 weeks"))
        )
        blocks.extend(packed(lines))
    if health.quiet:
        blocks.extend(packed(quiet_lines(health.quiet, t)))
    pairs = [pair_line(p, t) for p in health.pairs]
    reciprocity = _(
        "*Reciprocity* — pairs who gave each other more than half of their kudos "
        "(at least {count} in all):"
    ).format(count=RECIPROCITY_MIN)
    blocks.append(section(reciprocity + "\n" + ("\n".join(pairs) or _("_none_"))))
    if len(blocks) > room:
        blocks = [*blocks[: room - 1], context(_("More in `missionbot health --format csv`."))]
    return blocks


def health_title(health: Health | Trend, t: Speech = ENGLISH) -> str:
    return t.gettext("Promise health, {period}").format(period=period_label(health.period, t))


def health_message(health: Health, *, chart_coming: bool, t: Speech = ENGLISH) -> Message:
    _ = t.gettext
    period = period_label(health.period, t)
    blocks: list[Block] = [header(_("Promise health — {period}").format(period=period))]
    room = MESSAGE_BLOCK_LIMIT - len(blocks) - 1
    blocks.extend(health_blocks(health, room=room, t=t))
    if chart_coming:
        blocks.append(context(_("The 12-week chart is on its way to your DMs.")))
    text = t.ngettext(
        "Promise health, {period}: {count} kudos",
        "Promise health, {period}: {count} kudos",
        health.kudos,
    ).format(period=period, count=t.number(health.kudos))
    return Message(text=text, blocks=as_dicts(blocks))


def health_started(period: Period, t: Speech = ENGLISH) -> Message:
    text = t.gettext(":hourglass: Counting promise health for {period}…").format(
        period=period_label(period, t)
    )
    return Message(text=text, blocks=as_dicts([section(text)]))


def chart_block(file_id: str, t: Speech = ENGLISH) -> ImageBlock:
    """The chart, as a file already uploaded to Slack and shared with the viewer."""
    return ImageBlock(
        slack_file={"id": file_id}, alt_text=t.gettext(CHART_ALT), title=t.gettext(CHART_TITLE)
    )


def chart_comment(health: Health | Trend, t: Speech = ENGLISH) -> str:
    return t.gettext(
        "Promise health, {period}: kudos per principle per week over the 12 weeks to {week}."
    ).format(period=period_label(health.period, t), week=period_label(health.weeks[-1], t))
