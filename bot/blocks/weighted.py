"""Block Kit for the weighted leaderboard (`/kudos leaderboard month weighted`), in the
language it is read in (`t`: the reader's, or the workspace's when shared in a channel)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    Message,
    as_dicts,
    clip,
    context,
    packed_sections,
    period_label,
    section,
)
from bot.blocks.reports import principle_name
from bot.i18n.speech import ENGLISH, N_, Speech
from bot.reports.weighted import WeightedBoard, WeightedStanding

FORMULA = N_(
    "Weighted: each person who recognised someone adds the square root of their kudos to "
    "them, so 10 kudos from 10 people score 10 and 10 from one person 3.2."
)


def _score(value: float, t: Speech) -> str:
    return t.decimal(value, "0.0")


def _from(kudos: int, givers: int, t: Speech) -> str:
    """'5 kudos from 3 people': the kudos counted, and from how many different people."""
    people = t.ngettext("{count} person", "{count} people", givers).format(count=t.number(givers))
    return t.ngettext("{count} kudos from {people}", "{count} kudos from {people}", kudos).format(
        count=t.number(kudos), people=people
    )


def _line(standing: WeightedStanding, t: Speech) -> str:
    return (
        f"`{standing.rank:>2}.` <@{standing.user_id}> — *{_score(standing.score, t)}* "
        f"({_from(standing.kudos, standing.givers, t)})"
    )


def weighted_title(board: WeightedBoard, t: Speech = ENGLISH) -> str:
    _ = t.gettext
    period = period_label(board.period, t)
    if board.principle is None:
        return _("Top receivers, weighted — {period}").format(period=period)
    return _("Top receivers, weighted, for {principle} — {period}").format(
        principle=principle_name(board.principle, t), period=period
    )


def weighted_message(
    board: WeightedBoard, *, shared_by: str | None = None, t: Speech = ENGLISH
) -> Message:
    _ = t.gettext
    blocks: list[Block] = [section(f":trophy: *{weighted_title(board, t)}*")]
    if not board.entries:
        none = _("No kudos received in {period} yet.")
        blocks.append(section(none.format(period=period_label(board.period, t))))
    else:
        blocks.extend(packed_sections(_line(s, t) for s in board.entries))
    if shared_by is None and board.caller is not None:
        blocks.append(
            section(
                _("You are `#{rank}` of {people} with a score of {score} ({kudos}).").format(
                    rank=t.number(board.caller.rank),
                    people=t.number(board.people),
                    score=_score(board.caller.score, t),
                    kudos=_from(board.caller.kudos, board.caller.givers, t),
                )
            )
        )
    footer = _(FORMULA)
    if shared_by:
        footer += " · " + _("shared by {person}").format(person=f"<@{shared_by}>")
    blocks.append(context(footer))
    lines = [weighted_title(board, t)] + [
        f"{s.rank}. <@{s.user_id}> {_score(s.score, t)}" for s in board.entries[:5]
    ]
    return Message(text=clip("\n".join(lines), 1000), blocks=as_dicts(blocks))
