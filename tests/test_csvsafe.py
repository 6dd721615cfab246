"""The one CSV writer (bot/csvsafe.py): what a spreadsheet would run as a formula is written as
text, numbers stay numbers, and the file reads back as written. Each of the bot's CSVs is
tested through its own command in tests/test_promise_health.py (`missionbot health`) and
tests/test_reports_commands.py (`missionbot leaderboard`, `missionbot export`, `/kudos export`).
"""

from __future__ import annotations

import csv
import io

import pytest

from bot.csvsafe import FORMULA_STARTS, csv_text, safe_cell, write_rows

HOSTILE = [
    '=HYPERLINK("https://evil.example","open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text: str) -> None:
    assert text.startswith(FORMULA_STARTS)
    assert safe_cell(text) == "'" + text


def test_a_bidi_control_cannot_hide_a_formula_from_the_check() -> None:
    assert safe_cell("\u202e=1+1") == "'=1+1"
    assert safe_cell("a\u2066b") == "ab"


@pytest.mark.parametrize("text", ["Plain words", "a=b", " =1", "'=1", "", "1+1"])
def test_other_text_is_written_as_it_is(text: str) -> None:
    assert safe_cell(text) == text


def test_numbers_stay_numbers_and_none_is_an_empty_cell() -> None:
    assert [safe_cell(v) for v in (3, -2, 0.25, -0.5, None, True)] == [
        3,
        -2,
        0.25,
        -0.5,
        "",
        "True",
    ]


def test_rows_as_mappings_or_sequences_read_back_defused_with_crlf_line_ends() -> None:
    header = ("name", "kudos", "note")
    text = csv_text(
        header,
        [
            {"name": "=cmd", "kudos": 3},  # a missing key is an empty cell
            ['Ann, "the" lead\nsecond line', -1, "@here"],
        ],
    )
    assert text.startswith("name,kudos,note\r\n")
    read = list(csv.DictReader(io.StringIO(text, newline="")))
    assert read == [
        {"name": "'=cmd", "kudos": "3", "note": ""},
        {"name": 'Ann, "the" lead\nsecond line', "kudos": "-1", "note": "'@here"},
    ]


def test_the_header_is_written_through_the_same_check() -> None:
    out = io.StringIO()
    write_rows(out, ["=title"], [])
    assert out.getvalue() == "'=title\r\n"
