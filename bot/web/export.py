"""The dashboard's CSV: one small writer, formula-safe as `missionbot export` is (a cell a
spreadsheet would run, such as `=HYPERLINK(…)` in a name, is defused)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.reports.export import spreadsheet_safe


def csv_text(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(str(c)) for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else spreadsheet_safe(str(v)) for v in row])
    return out.getvalue()
