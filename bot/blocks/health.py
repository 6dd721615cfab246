"""Block Kit for promise health (`/kudos health`, the managers' App Home): per principle
numbers and a 12-week sparkline, the quiet principles, the reciprocal pairs, the chart.

Managers only: the pairs name people. Principles are listed most recognised first; past
`HEALTH_LINES` the rest are counted in one line, so the message keeps within 50 blocks even
with 250 principles (the CSV from `missionbot health` has them all).
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ImageBlock

from bot.blocks.common import MESSAGE_BLOCK_LIMIT, Message, as_dicts, context, header, section
from bot.blocks.common import packed_sections as packed
from bot.blocks.reports import principle_name, quiet_lines
from bot.reports.health import RECIPROCITY_MIN, Health, Pair, PrincipleHealth
from bot.reports.periods import Period

HEALTH_LINES = 25
SPARKS = "▁▂▃▄▅▆▇█"
CHART_ALT = "Kudos per principle per week over the last 12 weeks"


def sparkline(weekly: tuple[int, ...]) -> str:
    """The 12 weeks as block characters, scaled to the row's own peak (blank weeks lowest)."""
    peak = max(weekly, default=0)
    if not peak:
        return SPARKS[0] * len(weekly)
    return "".join(SPARKS[round(n / peak * (len(SPARKS) - 1))] for n in weekly)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def principle_health_line(row: PrincipleHealth) -> str:
    retired = " _(retired)_" if row.retired else ""
    return (
        f"{principle_name(row.principle)}{retired} — *{row.kudos}* · "
        f"{row.givers} gave, {row.receivers} received · top 5 {_share(row.top_share)} · "
        f"`{sparkline(row.weekly)}`"
    )


def pair_line(pair: Pair) -> str:
    return (
        f"<@{pair.first}> ⇄ <@{pair.second}> — {pair.first_to_second} and "
        f"{pair.second_to_first} kudos to each other, of {pair.first_gave} and "
        f"{pair.second_gave} they gave"
    )


def health_blocks(health: Health, *, room: int = MESSAGE_BLOCK_LIMIT) -> list[Block]:
    """The report's blocks (no header), at most `room` of them."""
    if not health.principles:
        return [section("_No principles yet: add some to the mission file._")]
    summary = (
        f"*{health.kudos}* kudos in {health.period.label}: {health.givers} people gave, "
        f"{health.receivers} received; the top 5 receivers got {_share(health.top_share)}."
    )
    if not health.kudos:
        summary = f"No kudos in {health.period.label}."
        if not health.weekly_total:
            summary += " Nothing in the last 12 weeks either: every view fills in with the first."
    ranked = sorted(health.principles, key=lambda r: (-r.kudos, -sum(r.weekly), r.retired))
    shown = [r for r in ranked[:HEALTH_LINES] if r.kudos or any(r.weekly)]
    lines = [principle_health_line(r) for r in shown]
    hidden = len([r for r in health.principles if r.kudos or any(r.weekly)]) - len(shown)
    if hidden > 0:
        lines.append(f"_…and {hidden} more principles: `missionbot health --format csv` has all._")
    blocks: list[Block] = [section(summary)]
    if lines:
        blocks.append(
            context("Per principle: kudos · givers, receivers · top 5's share · 12 weeks")
        )
        blocks.extend(packed(lines))
    if health.quiet:
        blocks.extend(packed(quiet_lines(health.quiet)))
    pairs = [pair_line(p) for p in health.pairs]
    blocks.append(
        section(
            "*Reciprocity* — pairs who gave each other more than half of their kudos "
            f"(at least {RECIPROCITY_MIN} in all):\n" + ("\n".join(pairs) or "_none_")
        )
    )
    if len(blocks) > room:
        blocks = [*blocks[: room - 1], context("More in `missionbot health --format csv`.")]
    return blocks


def health_message(health: Health, *, chart_coming: bool) -> Message:
    blocks: list[Block] = [header(f"Promise health — {health.period.label}")]
    room = MESSAGE_BLOCK_LIMIT - len(blocks) - 1
    blocks.extend(health_blocks(health, room=room))
    if chart_coming:
        blocks.append(context("The 12-week chart is on its way to your DMs."))
    return Message(
        text=f"Promise health, {health.period.label}: {health.kudos} kudos",
        blocks=as_dicts(blocks),
    )


def health_started(period: Period) -> Message:
    text = f":hourglass: Counting promise health for {period.label}…"
    return Message(text=text, blocks=as_dicts([section(text)]))


def chart_block(file_id: str) -> ImageBlock:
    """The chart, as a file already uploaded to Slack and shared with the viewer."""
    return ImageBlock(slack_file={"id": file_id}, alt_text=CHART_ALT, title="The last 12 weeks")


def chart_comment(health: Health) -> str:
    return (
        f"Promise health, {health.period.label}: kudos per principle per week over the "
        f"12 weeks to {health.weeks[-1].label}."
    )
