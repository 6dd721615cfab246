"""Block Kit for the weighted leaderboard (`/kudos leaderboard month weighted`)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import Message, as_dicts, clip, context, packed_sections, section
from bot.blocks.reports import principle_name
from bot.reports.weighted import WeightedBoard, WeightedStanding

FORMULA = (
    "Weighted: each person who recognised someone adds the square root of their kudos to "
    "them, so 10 kudos from 10 people score 10 and 10 from one person 3.2."
)


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def _line(standing: WeightedStanding) -> str:
    return (
        f"`{standing.rank:>2}.` <@{standing.user_id}> — *{standing.score:.1f}* "
        f"({standing.kudos} kudos from {_people(standing.givers)})"
    )


def weighted_title(board: WeightedBoard) -> str:
    about = f" for {principle_name(board.principle)}" if board.principle else ""
    return f"Top receivers, weighted{about} — {board.period.label}"


def weighted_message(board: WeightedBoard, *, shared_by: str | None = None) -> Message:
    blocks: list[Block] = [section(f":trophy: *{weighted_title(board)}*")]
    if not board.entries:
        blocks.append(section(f"No kudos received in {board.period.label} yet."))
    else:
        blocks.extend(packed_sections(_line(s) for s in board.entries))
    if shared_by is None and board.caller is not None:
        blocks.append(
            section(
                f"You are `#{board.caller.rank}` of {board.people} with a score of "
                f"{board.caller.score:.1f} ({board.caller.kudos} kudos from "
                f"{_people(board.caller.givers)})."
            )
        )
    footer = FORMULA + (f" · shared by <@{shared_by}>" if shared_by else "")
    blocks.append(context(footer))
    lines = [weighted_title(board)] + [
        f"{s.rank}. <@{s.user_id}> {s.score:.1f}" for s in board.entries[:5]
    ]
    return Message(text=clip("\n".join(lines), 1000), blocks=as_dicts(blocks))
