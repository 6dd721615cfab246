"""The weekly digest's highlights (bot/daily/digest.py) against the raw kudos: for random weeks,
zones, audiences and numbers of highlights, the groups found through the message-length index
(the longest messages down, latest first) are those that grouping every quotable kudos of the
week and sorting them gives: longest message first, then the latest, then by group ID.

The kudos are made to tie: a few message lengths, many kudos at the same instant, groups of
several receivers, some withdrawn, some private or from another channel, and a few groups whose
kudos were written at different instants (which no way of giving makes, but the answer must
not depend on it)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from bot.audience import QuoteScope, quotable
from bot.daily import digest
from bot.daily.digest import weekly_digest
from bot.db.engine import Database
from bot.db.models import Kudos
from bot.reports.periods import PeriodKind, period_of
from bot.reports.rebuild import rebuild_team
from bot.reports.summaries import counted
from tests.support.reports import kudos_row, principle_ids, sync

TEAM = "T0HIGHLIT"
OTHER_TEAM = "T0OTHERHL"
PEOPLE = [f"UH{n:03d}X" for n in range(8)]
FIRST_DAY = dt.date(2026, 3, 2)  # a Monday
WEEKS = 4
ZONES = ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"]
SCOPES = [
    QuoteScope(channel_id="CGENERAL01"),
    QuoteScope(channel_id="CPRIVATE01"),
    QuoteScope(viewer_id=PEOPLE[0]),
    QuoteScope(channel_id="COTHER0001", viewer_id=PEOPLE[3]),
]


def message(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("abcdefgh ") for _ in range(length - 1)) + "!"


@pytest.fixture
def kudos(database: Database) -> None:
    """~400 groups over four weeks and the days around them."""
    rng = random.Random(32)
    sync(database, TEAM)
    sync(database, OTHER_TEAM)
    pids = list(principle_ids(database, TEAM).values())
    start = dt.datetime.combine(FIRST_DAY, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=2)
    instants = [
        start + dt.timedelta(seconds=rng.randrange((WEEKS * 7 + 4) * 86_400)) for _ in range(120)
    ]
    rows: list[dict[str, Any]] = []
    for _ in range(400):
        giver = rng.choice(PEOPLE)
        receivers = rng.sample([p for p in PEOPLE if p != giver], rng.choice([1, 1, 1, 2, 3]))
        at = rng.choice(instants)  # often the same instant as other kudos
        text = message(rng, rng.choice([4, 9, 9, 17, 17, 17, 40]))
        audience = rng.choice(["public", "public", "public", "private", "dm"])
        channel = rng.choice(["CGENERAL01", "CGENERAL01", "CPRIVATE01", "COTHER0001"])
        group = str(uuid.uuid4())
        withdrawn = rng.random() < 0.1
        pid = rng.choice(pids)
        for n, receiver in enumerate(receivers):
            # A few groups whose kudos were written a second apart.
            when = at + dt.timedelta(seconds=n) if rng.random() < 0.05 else at
            rows.append(
                kudos_row(
                    TEAM,
                    giver,
                    receiver,
                    pid,
                    when,
                    message=text,
                    withdrawn=withdrawn,
                    channel=channel,
                    group=group,
                    audience=audience,
                )
            )
        other = principle_ids(database, OTHER_TEAM)
        rows.append(
            kudos_row(
                OTHER_TEAM, giver, receivers[0], next(iter(other.values())), at, message="x" * 90
            )
        )
    with database.transaction() as session:
        session.execute(insert(Kudos), rows)
    rebuild_team(database, TEAM, dt.datetime(2026, 6, 1, tzinfo=dt.UTC))


def reference(
    database: Database, bounds: tuple[dt.datetime, dt.datetime], scope: QuoteScope, limit: int
) -> list[tuple[str, str, int, str, dt.datetime]]:
    """Every quotable standing kudos of the week read, grouped and sorted here."""
    with database.reading() as session:
        rows = session.execute(
            select(
                Kudos.group_id,
                Kudos.giver_id,
                Kudos.principle_id,
                Kudos.message,
                Kudos.created_at,
            ).where(*counted(TEAM, bounds), quotable(scope))
        ).all()
    first: dict[tuple[str, str, int, str], dt.datetime] = {}
    for group, giver, pid, text, at in rows:
        key = (group, giver, pid, text)
        first[key] = min(at, first.get(key, at))
    ordered = sorted(
        first.items(), key=lambda item: (-len(item[0][3]), _minus(item[1]), item[0][0])
    )
    return [(*key, at) for key, at in ordered[:limit]]


def _minus(at: dt.datetime) -> float:
    return -at.timestamp()


def receivers_of(database: Database, groups: list[str]) -> dict[str, tuple[str, ...]]:
    found: defaultdict[str, list[str]] = defaultdict(list)
    with database.reading() as session:
        for group, receiver in session.execute(
            select(Kudos.group_id, Kudos.receiver_id)
            .where(*counted(TEAM, (None, None)), Kudos.group_id.in_(groups))
            .order_by(Kudos.id)
        ):
            found[group].append(receiver)
    return {group: tuple(found[group]) for group in groups}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    week=st.integers(min_value=0, max_value=WEEKS),
    zone=st.sampled_from(ZONES),
    scope=st.sampled_from(SCOPES),
    limit=st.integers(min_value=1, max_value=6),
    walk=st.sampled_from([1, 2, 64]),
)
def test_the_highlights_found_by_message_length_are_the_raw_kudos_ones(
    database: Database,
    kudos: None,
    monkeypatch: pytest.MonkeyPatch,
    week: int,
    zone: str,
    scope: QuoteScope,
    limit: int,
    walk: int,
) -> None:
    # Every week walked from its longest messages (none read whole), at most `walk` lengths.
    monkeypatch.setattr(digest, "READ_WHOLE_WEEK", 0)
    monkeypatch.setattr(digest, "WALK_LENGTHS", walk)
    day = FIRST_DAY + dt.timedelta(weeks=week, days=1)
    bounds = period_of(PeriodKind.WEEK, day).previous().bounds(ZoneInfo(zone))  # type: ignore[union-attr]
    expected = reference(database, bounds, scope, limit)
    with database.reading() as session:
        found = digest._highlights(session, TEAM, bounds, scope, limit, kudos=1_000_000)
    assert [(h.giver_id, h.principle.id, h.message, h.created_at) for h in found] == [
        (giver, pid, text, at) for _group, giver, pid, text, at in expected
    ]
    receivers = receivers_of(database, [row[0] for row in expected])
    assert [h.receiver_ids for h in found] == [receivers[row[0]] for row in expected]


def test_the_digest_quotes_the_longest_latest_messages_of_the_week(
    database: Database, kudos: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through `weekly_digest`, walked and read whole alike."""
    day = FIRST_DAY + dt.timedelta(weeks=2, days=3)
    zone = ZoneInfo("Asia/Kolkata")
    bounds = period_of(PeriodKind.WEEK, day).previous().bounds(zone)  # type: ignore[union-attr]
    scope = QuoteScope(channel_id="CGENERAL01")
    expected = [row[3] for row in reference(database, bounds, scope, digest.HIGHLIGHTS)]
    assert len(expected) == digest.HIGHLIGHTS
    found = []
    for whole in (0, 10**9):
        monkeypatch.setattr(digest, "READ_WHOLE_WEEK", whole)
        with database.reading() as session:
            made = weekly_digest(session=session, team_id=TEAM, day=day, zone=zone, scope=scope)
        found.append([h.message for h in made.highlights])
    assert found == [expected, expected]


def test_a_week_without_kudos_has_no_highlights(database: Database, kudos: None) -> None:
    bounds = (
        dt.datetime(2020, 1, 6, tzinfo=dt.UTC),
        dt.datetime(2020, 1, 13, tzinfo=dt.UTC),
    )
    with database.reading() as session:
        assert digest._highlights(session, TEAM, bounds, SCOPES[0], 3, kudos=0) == []
        # Told it holds kudos, the walk finds none either.
        assert digest._highlights(session, TEAM, bounds, SCOPES[0], 3, kudos=10**6) == []


def test_a_group_given_over_two_instants_ranks_by_its_first(database: Database) -> None:
    """The walk meets a group at its latest kudos; ranked by its first, it falls below one it
    passed over, which is then found by reading the week."""
    sync(database, TEAM)
    pid = next(iter(principle_ids(database, TEAM).values()))
    monday = dt.datetime.combine(FIRST_DAY, dt.time(0), tzinfo=dt.UTC)
    spread, single = "a" * 20, "b" * 20
    with database.transaction() as session:
        session.execute(
            insert(Kudos),
            [
                kudos_row(
                    TEAM,
                    PEOPLE[0],
                    PEOPLE[1],
                    pid,
                    monday + dt.timedelta(hours=10),
                    message=spread,
                    group="G-SPREAD",
                ),
                kudos_row(
                    TEAM,
                    PEOPLE[0],
                    PEOPLE[2],
                    pid,
                    monday + dt.timedelta(hours=1),
                    message=spread,
                    group="G-SPREAD",
                ),
                kudos_row(
                    TEAM,
                    PEOPLE[3],
                    PEOPLE[4],
                    pid,
                    monday + dt.timedelta(hours=5),
                    message=single,
                    group="G-SINGLE",
                ),
            ],
        )
    bounds = (monday, monday + dt.timedelta(days=7))
    with database.reading() as session:
        candidates = digest._candidate_groups(
            session, TEAM, [*counted(TEAM, bounds), quotable(SCOPES[0])], 1
        )
        found = digest._highlights(session, TEAM, bounds, SCOPES[0], 1, kudos=10**6)
    assert candidates is not None
    assert candidates.groups == {"G-SPREAD"}
    assert [h.message for h in found] == [single]
