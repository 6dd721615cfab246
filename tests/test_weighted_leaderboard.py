"""`/kudos leaderboard month weighted`: receivers ranked by Σ over givers of √(kudos from that
giver), checked against scores computed by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from bot.db.engine import Database
from bot.reports.periods import parse_period
from bot.reports.weighted import weighted_leaderboard
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.reports import kudos_row, principle_ids, seed, sync

NOW = dt.datetime(2026, 4, 20, 15, 0, tzinfo=dt.UTC)
AT = dt.datetime(2026, 4, 9, 15, tzinfo=dt.UTC)


def from_(giver: str, receiver: str, times: int, pid: int, team: str = TEAM_ID) -> list[Any]:
    return [kudos_row(team, giver, receiver, pid, AT) for _ in range(times)]


def fixture_rows(pid: int, team: str = TEAM_ID) -> list[dict[str, Any]]:
    """By hand: UC 4 (four people once) · UB √10 ≈ 3.16 (ten from one) · UD √4 + 1 = 3 and
    UE 1 + 1 + 1 = 3 (tied) · UF √2 + √2 ≈ 2.83 and UH √8 ≈ 2.83 (tied on paper, not in
    floating point) · a withdrawn kudos to UC from UG5 doesn't count."""
    return (
        from_("UG1", "UB", 10, pid, team)
        + [r for g in ("UG1", "UG2", "UG3", "UG4") for r in from_(g, "UC", 1, pid, team)]
        + [kudos_row(team, "UG5", "UC", pid, AT, withdrawn=True)]
        + from_("UG1", "UD", 4, pid, team)
        + from_("UG2", "UD", 1, pid, team)
        + [r for g in ("UG1", "UG2", "UG3") for r in from_(g, "UE", 1, pid, team)]
        + from_("UG1", "UF", 2, pid, team)
        + from_("UG2", "UF", 2, pid, team)
        + from_("UG3", "UH", 8, pid, team)
    )


def test_weighted_scores_and_ranks_equal_the_hand_computed_ones(database: Database) -> None:
    team = "TWEIGHT01"
    sync(database, team)
    seed(database, fixture_rows(principle_ids(database, team)["plain-words"], team))
    period = parse_period("2026-04", NOW.date())
    with database.reading() as session:
        board = weighted_leaderboard(
            session=session,
            team_id=team,
            period=period,
            bounds=period.bounds(dt.UTC),  # type: ignore[arg-type]
            caller_id="UH",
            top=3,
        )
    got = [(s.rank, s.user_id, round(s.score, 6), s.kudos, s.givers) for s in board.entries]
    assert got == [
        (1, "UC", 4.0, 4, 4),
        (2, "UB", round(math.sqrt(10), 6), 10, 1),
        (3, "UD", 3.0, 5, 2),
        (3, "UE", 3.0, 3, 3),
    ]
    assert board.caller is not None
    assert (board.caller.rank, round(board.caller.score, 6)) == (5, round(math.sqrt(8), 6))
    assert board.people == 6


@pytest.fixture
def at_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.mark.usefixtures("at_now")
def test_weighted_leaderboard_command_ranks_ties_alike(bot: Bot, slack: FakeSlack) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    seed(bot.database, fixture_rows(principle_ids(bot.database, TEAM_ID)["plain-words"]))
    text = bot.command("/kudos", "leaderboard month weighted").text
    assert "Top receivers, weighted — April 2026" in text
    assert "` 1.` <@UC> — *4.0* (4 kudos from 4 people)" in text
    assert "` 2.` <@UB> — *3.2* (10 kudos from 1 person)" in text
    assert "` 3.` <@UD> — *3.0* (5 kudos from 2 people)" in text
    assert "` 3.` <@UE> — *3.0* (3 kudos from 3 people)" in text
    assert "` 5.` <@UF> — *2.8*" in text
    assert "` 5.` <@UH> — *2.8*" in text
    assert "square root" in text
    # The plain board still ranks by count: ten from one friend come first.
    assert "` 1.` <@UB> — 10 kudos" in bot.command("/kudos", "leaderboard month").text


@pytest.mark.usefixtures("at_now")
def test_weighted_is_for_receivers_and_reads_well_with_no_kudos(bot: Bot) -> None:
    assert "`weighted` ranks receivers" in bot.command("/kudos", "leaderboard weighted givers").text
    empty = bot.command("/kudos", "leaderboard 2030-01 weighted").text
    assert "No kudos received in January 2030 yet." in empty
    assert "Try `/kudos principles" in bot.command("/kudos", "principles weighted").text
