"""CSV a spreadsheet opens as data: the one writer for every CSV the bot writes.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` as a
formula, and a leading tab or carriage return hides such a start (OWASP "CSV injection"). The
bot's CSVs carry text people wrote — kudos messages, display names, principle titles from a
mission file — so `=HYPERLINK("https://evil.example", "open")` in any of them would run on the
machine of the manager who opens the report. `safe_cell` puts a single quote in front of such
text, which spreadsheets show as text and do not evaluate (OWASP's advice). Bidirectional
controls go first: one in front of `=` would hide the formula from the check, and in a cell
they disguise text as they would in Slack (bot/text.py).

Numbers are written as they are: the bot's counts and shares are its own, never text from
people, and a spreadsheet should still see them as numbers.

`write_rows(stream, header, rows)` writes a header and rows to a text stream, every cell
through `safe_cell`, in the csv module's default dialect (RFC 4180: quoted as needed, CRLF
line ends); `csv_text(header, rows)` returns the same as a string. The kudos export, the
health and leaderboard reports of the command line, and the Slack export DM all use it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import IO

from bot.text import without_bidi

# The first characters that make a spreadsheet evaluate a cell (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = object
Row = Mapping[str, Cell] | Sequence[Cell]


def safe_cell(value: Cell) -> Cell:
    """`value` as a spreadsheet should show it: text that would run as a formula gets a leading
    single quote; numbers stay numbers; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    text = without_bidi(str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_rows(stream: IO[str], header: Sequence[str], rows: Iterable[Row]) -> None:
    """The header, then each row, every cell through `safe_cell`. A row is a mapping keyed by
    the header's names (a missing key is an empty cell) or a sequence in the header's order.

    Open a file for it with `newline=""`, as the csv module asks, so line ends stay CRLF."""
    writer = csv.writer(stream)
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        cells = [row.get(name) for name in header] if isinstance(row, Mapping) else row
        writer.writerow([safe_cell(cell) for cell in cells])


def csv_text(header: Sequence[str], rows: Iterable[Row]) -> str:
    """What `write_rows` writes, as a string."""
    out = io.StringIO()
    write_rows(out, header, rows)
    return out.getvalue()
