"""Exports: every kudos of a period as rows, written as CSV or JSON.

Names are not stored with kudos; the caller passes a `names` mapping (from the Slack users
cache, or nothing on the command line without Slack) and a missing name is left empty.

Each row says its `audience` (bot/audience.py), so whoever receives an export can tell which
words were said in public, and `given_via`: how the kudos was given (`kudos.source`).
`public_text_only` leaves the words of every other kudos out
(the row, and so the count, stays).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audience import Audience
from bot.csvsafe import csv_text
from bot.db.models import Kudos, Principle
from bot.reports.leaderboard import Range, counted

COLUMNS: tuple[str, ...] = (
    "date",
    "giver_id",
    "giver_name",
    "receiver_id",
    "receiver_name",
    "principle_key",
    "principle_title",
    "message",
    "channel",
    "audience",
    # How it was given: command, modal, shortcut, reaction (a principle's emoji) or message.
    "given_via",
)
# Written instead of the words of a kudos that was not given in public.
WITHHELD = "(not public: text left out)"


@dataclass(frozen=True, slots=True)
class ExportRow:
    created_at: dt.datetime
    giver_id: str
    receiver_id: str
    principle_key: str
    principle_title: str
    message: str
    channel_id: str | None
    audience: str
    given_via: str = ""


def export_rows(
    *, session: Session, team_id: str, bounds: Range, public_text_only: bool = False
) -> list[ExportRow]:
    """The period's kudos that count (not withdrawn), oldest first, with their principle."""
    rows = session.execute(
        select(
            Kudos.created_at,
            Kudos.giver_id,
            Kudos.receiver_id,
            Principle.key,
            Principle.title,
            Kudos.message,
            Kudos.channel_id,
            Kudos.audience,
            Kudos.source,
        )
        .join(Principle, Principle.id == Kudos.principle_id)
        .where(*counted(team_id, bounds))
        .order_by(Kudos.created_at, Kudos.id)
    ).all()
    exported = [ExportRow(*row) for row in rows]
    if public_text_only:
        exported = [
            row if row.audience == Audience.PUBLIC else replace(row, message=WITHHELD)
            for row in exported
        ]
    return exported


def people(rows: Sequence[ExportRow]) -> list[str]:
    """Everyone named in the rows, once each, for looking their names up."""
    return list(dict.fromkeys(u for row in rows for u in (row.giver_id, row.receiver_id)))


def iso_utc(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def records(rows: Sequence[ExportRow], names: Mapping[str, str]) -> list[dict[str, str]]:
    return [
        dict(
            zip(
                COLUMNS,
                (
                    iso_utc(row.created_at),
                    row.giver_id,
                    names.get(row.giver_id, ""),
                    row.receiver_id,
                    names.get(row.receiver_id, ""),
                    row.principle_key,
                    row.principle_title,
                    row.message,
                    row.channel_id or "",
                    row.audience,
                    row.given_via,
                ),
                strict=True,
            )
        )
        for row in rows
    ]


def to_csv(rows: Sequence[ExportRow], names: Mapping[str, str]) -> str:
    """The rows as CSV, formula-safe (bot/csvsafe.py)."""
    return csv_text(COLUMNS, records(rows, names))


def to_json(rows: Sequence[ExportRow], names: Mapping[str, str]) -> str:
    return json.dumps(records(rows, names), ensure_ascii=False, indent=2) + "\n"
