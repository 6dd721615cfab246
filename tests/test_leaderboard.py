"""Leaderboards, the principle report and the export rows, on generated data, against an
independent computation (Counters over the generated rows), on both databases."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from bot.db.engine import Database
from bot.db.models import Kudos
from bot.reports.export import COLUMNS, ExportRow, export_rows, to_csv
from bot.reports.leaderboard import (
    Role,
    find_principle,
    leaderboard,
    principle_report,
    top_ranks,
)
from bot.reports.periods import Period, parse_period
from tests.support.reports import (
    PEOPLE,
    WITHOUT_OLD_WAYS,
    competition_ranks,
    generate,
    in_local_range,
    kudos_row,
    principle_ids,
    seed,
    sync,
)

TEAM = "T0REPORTS"
TODAY = dt.date(2026, 5, 14)
PERIODS = ["week", "month", "quarter", "year", "all", "2026-03", "2025-12", "2026-Q1", "2025-Q4"]
ZONES = ["America/New_York", "Asia/Kolkata"]


@pytest.fixture
def generated(database: Database) -> list[dict[str, object]]:
    """~600 kudos from Oct 2025 to mid-May 2026; `old-ways` retired after they were given."""
    sync(database, TEAM)
    pids = principle_ids(database, TEAM)
    rows = generate(
        TEAM,
        pids.values(),
        count=600,
        start=dt.datetime(2025, 10, 1, tzinfo=dt.UTC),
        days=226,
    )
    seed(database, rows)
    sync(database, TEAM, WITHOUT_OLD_WAYS)
    return rows


def expected_board(
    rows: list[dict[str, object]], who: str, top: int = 10
) -> set[tuple[int, str, int]]:
    counts = Counter(str(r[who]) for r in rows)
    ranks = competition_ranks(counts)
    return {(ranks[u], u, n) for u, n in counts.items() if ranks[u] <= top}


def test_leaderboards_match_an_independent_count_for_every_period_zone_and_role(
    database: Database, generated: list[dict[str, object]]
) -> None:
    """And the App Home's top ranks (`top_ranks`, its own statement) for three sizes."""
    checked_ties = False
    for zone_name in ZONES:
        zone = ZoneInfo(zone_name)
        for text in PERIODS:
            period = parse_period(text, TODAY)
            counted = in_local_range(generated, zone, period.start, period.end)
            for role, who in ((Role.RECEIVERS, "receiver_id"), (Role.GIVERS, "giver_id")):
                with database.transaction() as session:
                    board = leaderboard(
                        session=session,
                        team_id=TEAM,
                        period=period,
                        bounds=period.bounds(zone),
                        role=role,
                    )
                    tops = {
                        top: top_ranks(
                            session=session,
                            team_id=TEAM,
                            period=period,
                            bounds=period.bounds(zone),
                            top=top,
                        )
                        for top in (1, 2, 5)
                        if role == Role.RECEIVERS
                    }
                got = {(s.rank, s.user_id, s.count) for s in board.entries}
                assert got == expected_board(counted, who), (zone_name, text, role)
                assert board.total == len(counted)
                assert board.people == len({r[who] for r in counted})
                for top, found in tops.items():
                    ranked = {(s.rank, s.user_id, s.count) for s in found.entries}
                    assert ranked == expected_board(counted, who, top), (zone_name, text, top)
                    assert found.period == period
                ranks = [s.rank for s in board.entries]
                checked_ties |= len(ranks) != len(set(ranks))
    assert checked_ties, "the generated data should contain ties"


def test_the_split_of_the_top_entries_adds_up_per_principle(
    database: Database, generated: list[dict[str, object]]
) -> None:
    zone = ZoneInfo("UTC")
    period = parse_period("2026-Q1", TODAY)
    counted = in_local_range(generated, zone, period.start, period.end)
    with database.transaction() as session:
        board = leaderboard(
            session=session, team_id=TEAM, period=period, bounds=period.bounds(zone)
        )
    assert board.entries[0].split
    for standing in board.entries[:3]:
        expected = Counter(
            r["principle_id"] for r in counted if r["receiver_id"] == standing.user_id
        )
        assert {p.id: n for p, n in standing.split} == dict(expected)
        assert [n for _p, n in standing.split] == sorted(expected.values(), reverse=True)


def received_this_month(database: Database, counts: dict[str, int]) -> Period:
    """`counts[user]` kudos to each user from one giver on 5 May; TODAY's month."""
    sync(database, TEAM)
    pid = principle_ids(database, TEAM)["plain-words"]
    at = dt.datetime(2026, 5, 5, 12, tzinfo=dt.UTC)
    seed(
        database,
        [kudos_row(TEAM, "UGIVER", u, pid, at) for u, n in counts.items() for _ in range(n)],
    )
    return parse_period("month", TODAY)


def test_ties_share_a_rank_and_the_next_rank_skips(database: Database) -> None:
    period = received_this_month(database, {"UAAAA": 3, "UBBBB": 2, "UCCCC": 2, "UDDDD": 1})
    with database.transaction() as session:
        board = leaderboard(
            session=session, team_id=TEAM, period=period, bounds=period.bounds(ZoneInfo("UTC"))
        )
    assert [(s.rank, s.user_id, s.count) for s in board.entries] == [
        (1, "UAAAA", 3),
        (2, "UBBBB", 2),
        (2, "UCCCC", 2),
        (4, "UDDDD", 1),
    ]


def test_the_homes_top_reads_on_while_a_tie_runs_past_what_it_read(database: Database) -> None:
    """Nine people tied first and one behind: the first read (four rows a rank) ends inside
    the tie, so it reads again, and everyone tied is first."""
    period = received_this_month(database, {f"UTIED{n}": 2 for n in range(9)} | {"UBEHIND": 1})
    with database.transaction() as session:
        found = top_ranks(
            session=session,
            team_id=TEAM,
            period=period,
            bounds=period.bounds(ZoneInfo("UTC")),
            top=2,
        )
    assert [(s.rank, s.user_id, s.count) for s in found.entries] == [
        (1, f"UTIED{n}", 2) for n in range(9)
    ]


def test_the_caller_outside_the_top_ten_gets_their_own_rank(database: Database) -> None:
    people = PEOPLE[:13]
    period = received_this_month(database, {u: 20 - i for i, u in enumerate(people)})
    with database.transaction() as session:
        board = leaderboard(
            session=session,
            team_id=TEAM,
            period=period,
            bounds=period.bounds(ZoneInfo("UTC")),
            caller_id=people[11],
        )
    assert [s.user_id for s in board.entries] == people[:10]
    assert board.caller is not None
    assert (board.caller.rank, board.caller.count) == (12, 20 - 11)


def test_a_kudos_at_2330_on_the_last_day_counts_in_the_callers_own_month(
    database: Database,
) -> None:
    sync(database, TEAM)
    pid = principle_ids(database, TEAM)["plain-words"]
    late = dt.datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    seed(database, [kudos_row(TEAM, "UGIVER", "UDANA", pid, late)])

    def receivers(period_text: str, zone: str) -> list[str]:
        period = parse_period(period_text, TODAY)
        with database.transaction() as session:
            board = leaderboard(
                session=session, team_id=TEAM, period=period, bounds=period.bounds(ZoneInfo(zone))
            )
        return [s.user_id for s in board.entries]

    assert receivers("2026-03", "America/New_York") == ["UDANA"]
    assert receivers("2026-04", "America/New_York") == []
    assert receivers("2026-03", "Europe/Berlin") == []
    assert receivers("2026-04", "Europe/Berlin") == ["UDANA"]


def test_withdrawn_kudos_never_count_and_retired_principles_still_do(
    database: Database, generated: list[dict[str, object]]
) -> None:
    zone = ZoneInfo("UTC")
    period = parse_period("all", TODAY)
    with database.transaction() as session:
        retired = find_principle(session, TEAM, "old-ways")
        board = leaderboard(
            session=session,
            team_id=TEAM,
            period=period,
            bounds=period.bounds(zone),
            principle=retired,
            top=100,
        )
    expected = [r for r in generated if r["principle_id"] == retired.id and not r["withdrawn_at"]]
    assert retired.number is None  # it is retired
    assert board.total == len(expected) > 0
    assert {(s.user_id, s.count) for s in board.entries} == set(
        Counter(str(r["receiver_id"]) for r in expected).items()
    )
    withdrawn = [r for r in generated if r["withdrawn_at"]]
    assert withdrawn
    assert board.total + sum(1 for r in withdrawn if r["principle_id"] == retired.id) == sum(
        1 for r in generated if r["principle_id"] == retired.id
    )


def test_the_principle_report_counts_compares_and_names_the_quiet_ones(
    database: Database, generated: list[dict[str, object]]
) -> None:
    pids = principle_ids(database, TEAM)
    # Nobody is recognised for credit-generously in April 2026 (New York time).
    zone = ZoneInfo("America/New_York")
    april, march = parse_period("2026-04", TODAY), parse_period("2026-03", TODAY)
    quiet_id = pids["credit-generously"]
    generated[:] = [
        r
        for r in generated
        if not (
            r["principle_id"] == quiet_id and r["created_at"].astimezone(zone).date().month == 4  # type: ignore[attr-defined]
        )
    ]
    with database.transaction() as session:
        session.execute(delete(Kudos))
    seed(database, generated)
    with database.transaction() as session:
        report = principle_report(
            session=session,
            team_id=TEAM,
            period=april,
            bounds=april.bounds(zone),
            previous_bounds=march.bounds(zone),
        )
    now = Counter(
        r["principle_id"] for r in in_local_range(generated, zone, april.start, april.end)
    )
    before = Counter(
        r["principle_id"] for r in in_local_range(generated, zone, march.start, march.end)
    )
    got = {c.principle.id: (c.count, c.previous) for c in report.counts}
    for key, pid in pids.items():
        if key == "old-ways" and not now[pid] and not before[pid]:
            assert pid not in got
        else:
            assert got[pid] == (now[pid], before[pid]), key
    assert [p.key for p in report.quiet] == ["credit-generously"]
    assert report.total == sum(now.values())


def test_export_rows_read_back_from_csv_match_the_counted_kudos(
    database: Database, generated: list[dict[str, object]]
) -> None:
    zone = ZoneInfo("Asia/Kolkata")
    period = parse_period("2026-Q1", TODAY)
    with database.transaction() as session:
        rows = export_rows(session=session, team_id=TEAM, bounds=period.bounds(zone))
    keys = {pid: key for key, pid in principle_ids(database, TEAM).items()}
    names = {PEOPLE[0]: "Ana =cmd", PEOPLE[1]: "Ben"}
    read = list(csv.DictReader(io.StringIO(to_csv(rows, names))))
    expected = sorted(
        in_local_range(generated, zone, period.start, period.end),
        key=lambda r: r["created_at"],  # type: ignore[arg-type,return-value]
    )
    assert len(read) == len(expected) > 0
    assert tuple(read[0]) == COLUMNS
    for got, want in zip(read, expected, strict=True):
        assert dt.datetime.fromisoformat(got["date"]) == want["created_at"]
        assert got["date"].endswith("Z")
        assert (got["giver_id"], got["receiver_id"]) == (want["giver_id"], want["receiver_id"])
        assert got["principle_key"] == keys[want["principle_id"]]  # type: ignore[index]
        assert (got["message"], got["channel"]) == (want["message"], want["channel_id"])
        assert got["receiver_name"] == names.get(str(want["receiver_id"]), "")


def test_a_message_a_spreadsheet_would_run_is_defused_in_the_csv() -> None:
    row = ExportRow(
        dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "UANA",
        "UBEN",
        "plain-words",
        "Plain words",
        '=HYPERLINK("https://evil.example","click")',
        None,
        "public",
    )
    [read] = csv.DictReader(io.StringIO(to_csv([row], {})))
    assert read["message"] == "'" + row.message
    assert read["date"] == "2026-01-02T03:04:05Z"
