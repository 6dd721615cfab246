"""The App Home view: the mission and today's principle, a "Give kudos" button, your month,
the month's top 5, and for admins the principle breakdown with an export button.

Built with slack-sdk's models, which validate it (`to_dict()` raises on a bad view), and kept
within Slack's limits however many principles or however long their texts: sections hold at
most 3000 characters, the view at most 100 blocks (the principle list is cut first) and
250 kB (`VIEW_BYTES`). The view carries its fingerprint (bot/home/state.py) in
`private_metadata`, so that an opening can tell whether it is current.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock
from slack_sdk.models.views import View

from bot.blocks.common import context, divider, escape, header, section
from bot.blocks.health import chart_block, pair_line
from bot.blocks.ids import Action
from bot.blocks.mission import mission_title, principle_line
from bot.blocks.reports import (
    packed_sections,
    participation_blocks,
    principle_lines,
    principle_name,
    quiet_lines,
)
from bot.kudos.service import KudosSummary
from bot.mission.service import Catalog, PrincipleInfo
from bot.reports.health import Health
from bot.reports.leaderboard import Leaderboard, PrincipleReport
from bot.reports.summaries import Participation

HOME_BLOCK_LIMIT = 100
# Slack's limit on a view's size, with room for what Slack adds to it.
VIEW_BYTES = 240_000
# Sections per list, so that the principles and the footer always keep some room.
LIST_SECTIONS = 8
STATEMENT_LIMIT = 1500
DESCRIPTION_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class HomeContent:
    user_id: str
    catalog: Catalog
    today: PrincipleInfo | None
    mine: KudosSummary | None
    top: Leaderboard | None
    report: PrincipleReport | None = None
    # Managers only: promise health, and this week's chart once uploaded (a Slack file ID).
    health: Health | None = None
    chart_file_id: str | None = None
    participation: Participation | None = None
    dashboard_url: str | None = None

    @property
    def admin(self) -> bool:
        return self.report is not None


def _today_blocks(principle: PrincipleInfo | None) -> list[Block]:
    button = ButtonElement(
        text="Give kudos",
        action_id=Action.GIVE_KUDOS,
        value=principle.key if principle else None,
        style="primary",
    )
    if principle is None:
        return [ActionsBlock(elements=[button])]
    description = escape(principle.description or "")
    if len(description) > DESCRIPTION_LIMIT:
        description = description[: DESCRIPTION_LIMIT - 1] + "…"
    return [
        section(
            f"*Today's principle:* {principle_name(principle)}  `#{principle.key}`\n{description}"
        ),
        ActionsBlock(elements=[button]),
    ]


def _mine_blocks(mine: KudosSummary | None, month: str) -> list[Block]:
    if mine is None:
        return []
    received = [t for t in mine.received if t.this_month]
    given = sum(t.this_month for t in mine.given)
    total = sum(t.this_month for t in received)
    lines = [f"*Your kudos in {month}* — {total} received, {given} given"]
    lines += [f"{principle_name(t.principle)} — {t.this_month}" for t in received]
    if not received:
        lines.append("_None received yet this month._")
    return _capped(packed_sections(lines), "`/kudos me` shows them all.")


def _capped(blocks: list[SectionBlock], more: str) -> list[Block]:
    if len(blocks) <= LIST_SECTIONS:
        return list(blocks)
    return [*blocks[: LIST_SECTIONS - 1], context(f"And more: {more}")]


def _top_blocks(top: Leaderboard | None) -> list[Block]:
    if top is None:
        return []
    lines = [f":trophy: *Top 5 — {top.period.label}*"]
    lines += [f"`{s.rank}.` <@{s.user_id}> — {s.count}" for s in top.entries]
    if not top.entries:
        lines.append("_No kudos yet this month: be the first!_")
    return list(packed_sections(lines))


def _admin_blocks(report: PrincipleReport | None) -> list[Block]:
    if report is None:
        return []
    blocks: list[Block] = [
        divider(),
        section(f"*For admins: by principle — {report.period.label}*"),
    ]
    shown = [c for c in report.counts if c.count or c.previous]
    lines = principle_lines(shown) or ["_No kudos yet this month._"]
    blocks.extend(_capped(packed_sections(lines), "`/kudos principles` shows them all."))
    if report.quiet:
        blocks.extend(
            _capped(
                packed_sections(quiet_lines(report.quiet)), "`/kudos principles` names them all."
            )
        )
    blocks.append(
        ActionsBlock(
            elements=[ButtonElement(text="Export this month (CSV)", action_id=Action.EXPORT_KUDOS)]
        )
    )
    return blocks


def _health_blocks(health: Health | None, chart_file_id: str | None) -> list[Block]:
    """Managers: the 12-week chart (or why there is none) and the reciprocal pairs."""
    if health is None:
        return []
    blocks: list[Block] = [section("*For admins: promise health*")]
    if chart_file_id:
        blocks.append(chart_block(chart_file_id))
    elif health.weekly_total:
        blocks.append(context("The 12-week chart is being drawn; it shows here in a moment."))
    else:
        blocks.append(context("No kudos in the last 12 weeks: the chart starts with the first."))
    if health.pairs:
        pairs = [pair_line(p) for p in health.pairs[:3]]
        blocks.append(
            section(
                "*Reciprocity:* pairs giving each other most of their kudos\n" + "\n".join(pairs)
            )
        )
    blocks.append(context("`/kudos health` shows the whole report."))
    return blocks


def home_view(content: HomeContent, *, fingerprint: str | None = None) -> dict[str, Any]:
    """The Home, within Slack's limits; `fingerprint` (bot/home/state.py) rides in its
    `private_metadata`, which Slack sends back with each opening."""
    blocks = _home_blocks(content)
    view = View(type="home", blocks=blocks, private_metadata=fingerprint).to_dict()
    if _bytes(view) <= VIEW_BYTES:
        return view
    # Slack refuses a view over 250 kB (`view_too_large`): drop from the end (the principle
    # list, then the lists above it) until it fits, keeping the footer and saying where the
    # rest is.
    footer, body = blocks[-1], blocks[:-1]
    if body and body[-1].to_dict() == _more_principles().to_dict():
        body = body[:-1]
    while True:
        blocks = [*body, _more_principles(), footer]
        view = View(type="home", blocks=blocks, private_metadata=fingerprint).to_dict()
        if len(body) <= 1 or _bytes(view) <= VIEW_BYTES:
            return view
        body = body[:-1]


def _bytes(view: dict[str, Any]) -> int:
    return len(json.dumps(view, ensure_ascii=False).encode())


def _more_principles() -> Block:
    return context("More principles: `/mission` lists them all.")


def _home_blocks(content: HomeContent) -> list[Block]:
    catalog = content.catalog
    statement = escape(catalog.statement)
    if len(statement) > STATEMENT_LIMIT:
        statement = statement[: STATEMENT_LIMIT - 1] + "…"
    month = content.top.period.label if content.top else "this month"
    head: list[Block] = [header(mission_title(catalog)), section(statement or "_No mission yet._")]
    head += _today_blocks(content.today)
    head += [divider(), *_mine_blocks(content.mine, month), *_top_blocks(content.top)]
    head += _admin_blocks(content.report)
    if content.admin and content.report is not None:
        head += participation_blocks(
            content.participation, content.dashboard_url, content.report.period.label
        )
    head += _health_blocks(content.health, content.chart_file_id)
    footer: list[Block] = [
        context("`/kudos help` and `/mission help` show what else I can do."),
    ]
    principles: list[Block] = [divider(), section("*Our principles*")] if catalog.principles else []
    principles += packed_sections(principle_line(p) for p in catalog.principles)
    room = HOME_BLOCK_LIMIT - len(head) - len(footer)
    if len(principles) > room:
        principles = [*principles[: room - 1], _more_principles()] if room > 0 else []
    return [*head, *principles, *footer][:HOME_BLOCK_LIMIT]
