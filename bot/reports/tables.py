"""A leaderboard as plain records, and those records as a terminal table, CSV or JSON: what
`missionbot leaderboard` prints. (Slack draws the same board as Block Kit in bot/blocks/reports.py.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.csvsafe import csv_text
from bot.reports.leaderboard import Leaderboard

LEADERBOARD_COLUMNS = ("rank", "user_id", "name", "kudos", "principles")
_NUMERIC = frozenset({"rank", "kudos"})

Record = dict[str, object]


def leaderboard_records(board: Leaderboard, names: Mapping[str, str]) -> list[Record]:
    """One record per standing, keyed by LEADERBOARD_COLUMNS; a name is empty when unknown."""
    return [
        {
            "rank": s.rank,
            "user_id": s.user_id,
            "name": names.get(s.user_id, ""),
            "kudos": s.count,
            "principles": "; ".join(f"{p.key} {n}" for p, n in s.split),
        }
        for s in board.entries
    ]


def leaderboard_json(board: Leaderboard, records: Sequence[Record]) -> str:
    return json.dumps(
        {"period": board.period.label, "role": str(board.role), "rows": list(records)}, indent=2
    )


def leaderboard_csv(records: Sequence[Record]) -> str:
    """The records as CSV, formula-safe (people's names are theirs to choose)."""
    return csv_text(LEADERBOARD_COLUMNS, records)


def leaderboard_text(board: Leaderboard, where: ZoneInfo, records: Sequence[Record]) -> str:
    """A title line, then the records as aligned columns (or a line saying there are none)."""
    about = f" for #{board.principle.key}" if board.principle else ""
    title = f"Top {board.role}{about}, {board.period.label} ({where.key}): {board.total} kudos"
    return f"{title}\n{table(records) if records else 'No kudos in this period.'}"


def table(records: Sequence[Record]) -> str:
    """Records as aligned columns for a terminal; numbers right-aligned."""
    columns = LEADERBOARD_COLUMNS
    cells = [[str(row[c]) for c in columns] for row in records]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if c in _NUMERIC else v.ljust(w)
            for c, v, w in zip(columns, values, widths, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(columns), rule, *(line(r) for r in cells)])
