"""The promise-health report as plain records, and those as CSV or JSON: what
`missionbot health --format csv|json` prints, and the numbers the chart is drawn from.

One record per principle: its kudos, givers, receivers and top-5 share in the period, whether
it is quiet, and one column per week of the 12-week trend (named by the week's Monday).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from bot.csvsafe import csv_text
from bot.reports.health import Health

FIXED_COLUMNS = (
    "number",
    "key",
    "title",
    "kudos",
    "givers",
    "receivers",
    "top5_share",
    "quiet",
    "retired",
)

Record = dict[str, object]


def week_columns(health: Health) -> list[str]:
    return [f"week_{week.start:%Y-%m-%d}" for week in health.weeks]


def health_records(health: Health) -> list[Record]:
    quiet = {p.id for p in health.quiet}
    records: list[Record] = []
    for row in health.principles:
        share = row.top_share
        record: Record = {
            "number": row.principle.number if row.principle.number is not None else "",
            "key": row.principle.key,
            "title": row.principle.title,
            "kudos": row.kudos,
            "givers": row.givers,
            "receivers": row.receivers,
            "top5_share": "" if share is None else round(share, 4),
            "quiet": row.principle.id in quiet,
            "retired": row.retired,
        }
        record.update(zip(week_columns(health), row.weekly, strict=True))
        records.append(record)
    return records


def health_csv(health: Health) -> str:
    """One row per principle, formula-safe (a mission file's titles are people's text)."""
    return csv_text([*FIXED_COLUMNS, *week_columns(health)], health_records(health))


def health_json(health: Health, names: Mapping[str, str] | None = None) -> str:
    """The records, the workspace totals and the reciprocal pairs (with names when known)."""
    names = names or {}
    share = health.top_share
    pairs: Sequence[Record] = [
        {
            "first": pair.first,
            "first_name": names.get(pair.first, ""),
            "second": pair.second,
            "second_name": names.get(pair.second, ""),
            "first_to_second": pair.first_to_second,
            "second_to_first": pair.second_to_first,
            "first_gave": pair.first_gave,
            "second_gave": pair.second_gave,
        }
        for pair in health.pairs
    ]
    return json.dumps(
        {
            "period": health.period.label,
            "weeks": [f"{week.start:%Y-%m-%d}" for week in health.weeks],
            "kudos": health.kudos,
            "givers": health.givers,
            "receivers": health.receivers,
            "top5_share": None if share is None else round(share, 4),
            "quiet": [p.key for p in health.quiet],
            "principles": health_records(health),
            "reciprocal_pairs": list(pairs),
        },
        indent=2,
    )
