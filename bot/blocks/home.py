"""The App Home view: the mission and today's principle, a "Give kudos" button, your month,
the month's top 5, and for admins the principle breakdown with an export button, participation
and promise health at a glance (its 12-week chart and the top `HOME_PAIRS` reciprocal pairs:
not its people per principle, which `/kudos health` shows, so the Home never reads them).

Built with slack-sdk's models, which validate it (`to_dict()` raises on a bad view), and kept
within Slack's limits however many principles or however long their texts: sections hold at
most 3000 characters, the view at most 100 blocks (the principle list is cut first) and
250 kB (`VIEW_BYTES`). The view carries its fingerprint (bot/home/state.py) in
`private_metadata`, so that an opening can tell whether it is current.

In the reader's language (`t`): the bot's words, dates and numbers, and the mission and
principles where the mission file translates them. The language is part of the fingerprint,
so a person whose Slack language changes gets their Home redrawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock
from slack_sdk.models.views import View

from bot.blocks.common import context, divider, escape, header, period_label, section
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
from bot.i18n.speech import ENGLISH, Speech
from bot.kudos.service import KudosSummary
from bot.mission.service import Catalog, PrincipleInfo
from bot.reports.health import Pair, Trend
from bot.reports.leaderboard import PrincipleReport, Top
from bot.reports.summaries import Participation

HOME_BLOCK_LIMIT = 100
# Slack's limit on a view's size, with room for what Slack adds to it.
VIEW_BYTES = 240_000
# Sections per list, so that the principles and the footer always keep some room.
LIST_SECTIONS = 8
STATEMENT_LIMIT = 1500
DESCRIPTION_LIMIT = 1000
# Reciprocal pairs a manager's Home names (the publish reads no more).
HOME_PAIRS = 3


@dataclass(frozen=True, slots=True)
class HomeContent:
    user_id: str
    catalog: Catalog
    today: PrincipleInfo | None
    mine: KudosSummary | None
    top: Top | None
    report: PrincipleReport | None = None
    # Managers only: promise health's trend (what the chart draws) and its top reciprocal
    # pairs, and this week's chart once uploaded (a Slack file ID).
    trend: Trend | None = None
    chart_file_id: str | None = None
    participation: Participation | None = None
    dashboard_url: str | None = None
    pairs: tuple[Pair, ...] = ()

    @property
    def admin(self) -> bool:
        return self.report is not None


def _today_blocks(principle: PrincipleInfo | None, t: Speech) -> list[Block]:
    _ = t.gettext
    button = ButtonElement(
        text=_("Give kudos"),
        action_id=Action.GIVE_KUDOS,
        value=principle.key if principle else None,
        style="primary",
    )
    if principle is None:
        return [ActionsBlock(elements=[button])]
    principle = principle.in_language(t.language)
    description = escape(principle.description or "")
    if len(description) > DESCRIPTION_LIMIT:
        description = description[: DESCRIPTION_LIMIT - 1] + "…"
    heading = _("*Today's principle:* {principle}").format(principle=principle_name(principle, t))
    return [
        section(f"{heading}  `#{principle.key}`\n{description}"),
        ActionsBlock(elements=[button]),
    ]


def _mine_blocks(mine: KudosSummary | None, month: str, t: Speech) -> list[Block]:
    if mine is None:
        return []
    received = [r for r in mine.received if r.this_month]
    given = sum(g.this_month for g in mine.given)
    total = sum(r.this_month for r in received)
    lines = [
        t.gettext("*Your kudos in {month}* — {received} received, {given} given").format(
            month=month, received=t.number(total), given=t.number(given)
        )
    ]
    lines += [f"{principle_name(r.principle, t)} — {t.number(r.this_month)}" for r in received]
    if not received:
        lines.append(t.gettext("_None received yet this month._"))
    return _capped(packed_sections(lines), t.gettext("`/kudos me` shows them all."), t)


def _capped(blocks: list[SectionBlock], more: str, t: Speech) -> list[Block]:
    if len(blocks) <= LIST_SECTIONS:
        return list(blocks)
    return [*blocks[: LIST_SECTIONS - 1], context(t.gettext("And more: {more}").format(more=more))]


def _top_blocks(top: Top | None, t: Speech) -> list[Block]:
    if top is None:
        return []
    lines = [t.gettext(":trophy: *Top 5 — {period}*").format(period=period_label(top.period, t))]
    lines += [f"`{s.rank}.` <@{s.user_id}> — {t.number(s.count)}" for s in top.entries]
    if not top.entries:
        lines.append(t.gettext("_No kudos yet this month: be the first!_"))
    return list(packed_sections(lines))


def _admin_blocks(report: PrincipleReport | None, t: Speech) -> list[Block]:
    _ = t.gettext
    if report is None:
        return []
    period = period_label(report.period, t)
    blocks: list[Block] = [
        divider(),
        section(_("*For admins: by principle — {period}*").format(period=period)),
    ]
    shown = [c for c in report.counts if c.count or c.previous]
    lines = principle_lines(shown, t) or [_("_No kudos yet this month._")]
    blocks.extend(_capped(packed_sections(lines), _("`/kudos principles` shows them all."), t))
    if report.quiet:
        blocks.extend(
            _capped(
                packed_sections(quiet_lines(report.quiet, t)),
                _("`/kudos principles` names them all."),
                t,
            )
        )
    export = ButtonElement(text=_("Export this month (CSV)")[:75], action_id=Action.EXPORT_KUDOS)
    blocks.append(ActionsBlock(elements=[export]))
    return blocks


def _health_blocks(
    trend: Trend | None, pairs: tuple[Pair, ...], chart_file_id: str | None, t: Speech
) -> list[Block]:
    """Managers: the 12-week chart (or why there is none) and the reciprocal pairs."""
    _ = t.gettext
    if trend is None:
        return []
    blocks: list[Block] = [section(_("*For admins: promise health*"))]
    if chart_file_id:
        blocks.append(chart_block(chart_file_id, t))
    elif trend.weekly_total:
        blocks.append(context(_("The 12-week chart is being drawn; it shows here in a moment.")))
    else:
        blocks.append(context(_("No kudos in the last 12 weeks: the chart starts with the first.")))
    if pairs:
        lines = [pair_line(p, t) for p in pairs[:HOME_PAIRS]]
        heading = _("*Reciprocity:* pairs giving each other most of their kudos")
        blocks.append(section(heading + "\n" + "\n".join(lines)))
    blocks.append(context(_("`/kudos health` shows the whole report.")))
    return blocks


def home_view(
    content: HomeContent, *, fingerprint: str | None = None, t: Speech = ENGLISH
) -> dict[str, Any]:
    """The Home in `t`'s language, within Slack's limits; `fingerprint` (bot/home/state.py)
    rides in its `private_metadata`, which Slack sends back with each opening."""
    blocks = _home_blocks(content, t)
    view = View(type="home", blocks=blocks, private_metadata=fingerprint).to_dict()
    if _bytes(view) <= VIEW_BYTES:
        return view
    # Slack refuses a view over 250 kB (`view_too_large`): drop from the end (the principle
    # list, then the lists above it) until it fits, keeping the footer and saying where the
    # rest is.
    footer, body = blocks[-1], blocks[:-1]
    if body and body[-1].to_dict() == _more_principles(t).to_dict():
        body = body[:-1]
    while True:
        blocks = [*body, _more_principles(t), footer]
        view = View(type="home", blocks=blocks, private_metadata=fingerprint).to_dict()
        if len(body) <= 1 or _bytes(view) <= VIEW_BYTES:
            return view
        body = body[:-1]


def _bytes(view: dict[str, Any]) -> int:
    return len(json.dumps(view, ensure_ascii=False).encode())


def _more_principles(t: Speech) -> Block:
    return context(t.gettext("More principles: `/mission` lists them all."))


def _home_blocks(content: HomeContent, t: Speech) -> list[Block]:
    _ = t.gettext
    catalog = content.catalog.in_language(t.language)
    statement = escape(catalog.statement)
    if len(statement) > STATEMENT_LIMIT:
        statement = statement[: STATEMENT_LIMIT - 1] + "…"
    month = period_label(content.top.period, t) if content.top else _("this month")
    head: list[Block] = [
        header(mission_title(catalog, t)),
        section(statement or _("_No mission yet._")),
    ]
    head += _today_blocks(content.today, t)
    head += [divider(), *_mine_blocks(content.mine, month, t), *_top_blocks(content.top, t)]
    head += _admin_blocks(content.report, t)
    if content.admin and content.report is not None:
        head += participation_blocks(
            content.participation,
            content.dashboard_url,
            period_label(content.report.period, t),
            t,
        )
    head += _health_blocks(content.trend, content.pairs, content.chart_file_id, t)
    footer: list[Block] = [
        context(_("`/kudos help` and `/mission help` show what else I can do.")),
    ]
    principles: list[Block] = (
        [divider(), section(_("*Our principles*"))] if catalog.principles else []
    )
    principles += packed_sections(principle_line(p) for p in catalog.principles)
    room = HOME_BLOCK_LIMIT - len(head) - len(footer)
    if len(principles) > room:
        principles = [*principles[: room - 1], _more_principles(t)] if room > 0 else []
    return [*head, *principles, *footer][:HOME_BLOCK_LIMIT]
