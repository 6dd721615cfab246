"""The give flow and `give` without Slack: the rules of giving, on SQLite and PostgreSQL.

The flow's look-ups come through its `Directory` protocol; here a directory of people held in
memory answers them (what Slack would), so these tests need no Slack at all. Every way in runs
the same flow: tests/test_ways_to_give.py drives it through the app.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.audience import Audience
from bot.db.engine import Database
from bot.db.models import Kudos, KudosAllowance, Principle
from bot.errors import AllowanceSpent, KudosRefused
from bot.kudos.flow import KudosRequest, Queued, give_and_queue
from bot.kudos.service import (
    GivenKudos,
    Giver,
    Giving,
    Place,
    Recipient,
    Source,
    give,
    withdraw_group,
)
from bot.mission.file import MissionDocument, PrincipleSpec
from bot.mission.service import sync_mission
from bot.people import Person, find_people, remember_people

TEAM = "T0GIVEFLOW"
ANA, BEN, CARL, BOT, GONE = "UANA", "UBEN", "UCARL", "UDEPLOYBOT", "UGONE"
GROUP = "S0OPS"
LIMIT = 5
NOW = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)  # Europe's clocks go forward at 01:00 UTC


def person(user_id: str, *, timezone: str = "UTC", is_bot: bool = False, deleted: bool = False):
    return Person(
        id=user_id,
        name=user_id.lower(),
        timezone=timezone,
        is_bot=is_bot,
        deleted=deleted,
        is_admin=False,
        is_owner=False,
    )


@dataclass
class Found:
    people: dict[str, Person]
    audience: Audience
    learnt: list[Person]
    unconfirmed: frozenset[str] = frozenset()

    def remember(self, session: Session, now: dt.datetime) -> None:
        remember_people(session=session, team_id=TEAM, people=self.learnt, now=now)

    def remember_alone(self, database: Database, now: dt.datetime) -> None:
        with database.transaction() as session:
            self.remember(session, now)


@dataclass
class Directory:
    """What Slack would answer: people, user groups and each channel's audience."""

    people: dict[str, Person]
    groups: dict[str, list[str]] = field(default_factory=dict)
    audiences: dict[str, Audience] = field(default_factory=dict)
    asked: list[Sequence[str]] = field(default_factory=list)

    def members(
        self, *, team_id: str, giver_id: str, group_ids: Sequence[str], named_ids: Sequence[str]
    ) -> list[str]:
        found = [m for g in group_ids for m in self.groups[g]]
        return [m for m in dict.fromkeys(found) if m != giver_id and m not in named_ids]

    def look_up(
        self,
        *,
        team_id: str,
        giver_id: str,
        recipient_ids: Sequence[str],
        channel_id: str | None,
        now: dt.datetime,
    ) -> Found:
        wanted = [giver_id, *recipient_ids]
        self.asked.append(wanted)
        people = {user_id: self.people[user_id] for user_id in wanted}
        audience = self.audiences.get(channel_id or "", Audience.PUBLIC)
        return Found(people=people, audience=audience, learnt=list(people.values()))


@dataclass
class Announcements:
    """Records what the flow asked to announce, in the kudos's transaction."""

    given: list[GivenKudos] = field(default_factory=list)
    fail: bool = False

    def __call__(
        self, session: Session, given: GivenKudos, now: dt.datetime
    ) -> list[tuple[str, str]]:
        if self.fail:
            raise RuntimeError("the outbox is unwritable")
        self.given.append(given)
        return [(TEAM, given.channel_id or "")]


@pytest.fixture
def principle_id(database: Database) -> int:
    document = MissionDocument(
        statement="We test.", principles=(PrincipleSpec(key="own-it", title="Own it"),)
    )
    with database.transaction() as session:
        sync_mission(session, team_id=TEAM, document=document)
        return int(session.scalars(select(Principle.id).where(Principle.team_id == TEAM)).one())


@pytest.fixture
def directory() -> Directory:
    people = [
        person(ANA, timezone="Europe/Berlin"),
        person(BEN),
        person(CARL),
        person(BOT, is_bot=True),
        person(GONE, deleted=True),
    ]
    return Directory(people={p.id: p for p in people}, groups={GROUP: [BEN, ANA, BOT, GONE]})


def request(principle_id: int, *to: str, **changes: object) -> KudosRequest:
    fields: dict[str, object] = {
        "team_id": TEAM,
        "giver_id": ANA,
        "named_ids": to,
        "principle_id": principle_id,
        "message": "for the handover",
        "source": Source.COMMAND,
        "channel_id": "C0GENERAL",
    }
    fields.update(changes)
    return KudosRequest(**fields)  # type: ignore[arg-type]


def flow(
    database: Database,
    directory: Directory,
    kudos: KudosRequest,
    announce: Announcements | None = None,
    now: dt.datetime = NOW,
) -> Queued:
    return give_and_queue(
        kudos,
        directory=directory,
        database=database,
        announce=announce or Announcements(),
        limit=LIMIT,
        now=now,
    )


def rows(database: Database) -> list[Kudos]:
    with database.reading() as session:
        return list(session.scalars(select(Kudos).order_by(Kudos.id)))


def used(database: Database, giver_id: str = ANA) -> int:
    with database.reading() as session:
        total = session.scalar(
            select(func.sum(KudosAllowance.used)).where(KudosAllowance.giver_id == giver_id)
        )
    return int(total or 0)


def test_a_kudos_is_recorded_with_its_announcement_in_one_transaction(
    database: Database, directory: Directory, principle_id: int
) -> None:
    announce = Announcements()
    queued = flow(database, directory, request(principle_id, BEN, CARL), announce)
    assert queued.channels == ((TEAM, "C0GENERAL"),)
    assert announce.given == [queued.given]
    assert queued.given.receiver_ids == (BEN, CARL)
    assert queued.given.remaining == LIMIT - 2
    assert [(r.receiver_id, r.source, r.audience) for r in rows(database)] == [
        (BEN, "command", "public"),
        (CARL, "command", "public"),
    ]
    # People were looked up once, all together.
    assert directory.asked == [[ANA, BEN, CARL]]
    with database.reading() as session:
        assert set(find_people(session=session, team_id=TEAM, user_ids=[ANA, BEN])) == {ANA, BEN}


def test_an_announcement_that_cannot_be_queued_leaves_no_kudos(
    database: Database, directory: Directory, principle_id: int
) -> None:
    with pytest.raises(RuntimeError):
        flow(database, directory, request(principle_id, BEN), Announcements(fail=True))
    assert rows(database) == []
    assert used(database) == 0


@pytest.mark.parametrize(
    ("to", "refusal"),
    [
        ((ANA,), "can't give one to yourself"),
        ((BEN, BOT), "@udeploybot is a bot"),
        ((GONE,), "@ugone is no longer active"),
        ((), "Who is the kudos for?"),
    ],
)
def test_a_refused_kudos_records_and_announces_nothing_but_keeps_what_was_learnt(
    database: Database, directory: Directory, principle_id: int, to: tuple[str, ...], refusal: str
) -> None:
    announce = Announcements()
    with pytest.raises(KudosRefused) as refused:
        flow(database, directory, request(principle_id, *to), announce)
    assert refusal in refused.value.message
    assert rows(database) == []
    assert announce.given == []
    assert used(database) == 0
    with database.reading() as session:
        assert ANA in find_people(session=session, team_id=TEAM, user_ids=[ANA])


def test_a_groups_bots_and_leavers_are_passed_over_and_the_group_counts_once(
    database: Database, directory: Directory, principle_id: int
) -> None:
    kudos = request(principle_id, CARL, group_ids=(GROUP,))
    queued = flow(database, directory, kudos)
    assert queued.given.receiver_ids == (CARL, BEN)
    assert used(database) == 2  # CARL named, plus the group once


def test_the_allowance_is_spent_on_the_givers_own_day_across_a_dst_change(
    database: Database, directory: Directory, principle_id: int
) -> None:
    # 00:30 UTC on the night Berlin moves to summer time: 01:30 on the 29th in Berlin.
    for n in range(LIMIT):
        flow(database, directory, request(principle_id, BEN, message=f"thanks {n}"))
    with pytest.raises(AllowanceSpent) as spent:
        flow(database, directory, request(principle_id, CARL))
    assert spent.value.day == dt.date(2026, 3, 29)
    # At 22:30 UTC it is already the 30th in Berlin (CEST, +2): a fresh allowance.
    late = dt.datetime(2026, 3, 29, 22, 30, tzinfo=dt.UTC)
    assert (
        flow(
            database, directory, request(principle_id, CARL, message="late"), now=late
        ).given.remaining
        == 4
    )
    # The 28th in UTC terms is still the 28th in Berlin at 22:30 UTC (CET, +1): 23:30.
    before = dt.datetime(2026, 3, 28, 22, 30, tzinfo=dt.UTC)
    assert (
        flow(
            database, directory, request(principle_id, CARL, message="early"), now=before
        ).given.remaining
        == 4
    )


def test_a_double_submit_is_recorded_once_and_announced_once(
    database: Database, directory: Directory, principle_id: int
) -> None:
    announce = Announcements()
    first = flow(database, directory, request(principle_id, BEN), announce)
    second = flow(database, directory, request(principle_id, BEN), announce)
    assert second.given.duplicate
    assert second.channels == ()
    assert second.given.group_id == first.given.group_id
    assert len(rows(database)) == 1
    assert len(announce.given) == 1


def test_a_bot_or_a_leaver_gives_nothing(
    database: Database, directory: Directory, principle_id: int
) -> None:
    for giver in (BOT, GONE):
        with pytest.raises(KudosRefused, match="given by people"):
            flow(database, directory, request(principle_id, BEN, giver_id=giver))
    assert rows(database) == []


@pytest.mark.parametrize("source", [Source.REACTION, Source.MESSAGE])
def test_kudos_in_the_conversation_are_not_given_in_a_dm(
    database: Database, directory: Directory, principle_id: int, source: Source
) -> None:
    directory.audiences["D0DIRECT"] = Audience.DM
    kudos = request(principle_id, BEN, source=source, channel_id="D0DIRECT", message_ts="1.2")
    with pytest.raises(KudosRefused, match="direct message"):
        flow(database, directory, kudos)
    assert rows(database) == []


def test_the_audience_of_the_conversation_is_recorded(
    database: Database, directory: Directory, principle_id: int
) -> None:
    directory.audiences["G0PRIVATE"] = Audience.PRIVATE
    flow(database, directory, request(principle_id, BEN, channel_id="G0PRIVATE"))
    assert [r.audience for r in rows(database)] == ["private"]


def test_a_reaction_recognises_a_message_once_per_giver_and_principle_even_at_once(
    database: Database, directory: Directory, principle_id: int
) -> None:
    def react(message: str) -> KudosRequest:
        return request(
            principle_id, BEN, source=Source.REACTION, message=message, message_ts="1700.0001"
        )

    outcomes: list[str] = []

    def deliver(n: int) -> None:
        try:
            flow(database, directory, react(f"For this message (delivery {n})"))
            outcomes.append("recorded")
        except KudosRefused as refusal:
            outcomes.append(refusal.message)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("recorded") == 1
    assert len(rows(database)) == 1
    assert used(database) == 1
    assert all("already recognised" in o for o in outcomes if o != "recorded")


def test_give_takes_what_where_and_by_whom(database: Database, principle_id: int) -> None:
    giving = Giving(
        recipients=(Recipient(BEN), Recipient(CARL)),
        principle_id=principle_id,
        message="for the night shift",
        source=Source.MESSAGE,
        allowance_cost=1,
    )
    place = Place(team_id=TEAM, channel_id="C0OPS", audience=Audience.PUBLIC, message_ts="17.5")
    with database.transaction() as session:
        given = give(
            session=session,
            giving=giving,
            giver=Giver(ANA, "Pacific/Auckland"),
            place=place,
            limit=LIMIT,
            now=NOW,
        )
    assert (given.receiver_ids, given.remaining, given.channel_id) == ((BEN, CARL), 4, "C0OPS")
    assert [(r.message_ts, r.source, r.channel_id) for r in rows(database)] == [
        ("17.5", "message", "C0OPS"),
        ("17.5", "message", "C0OPS"),
    ]
    with database.reading() as session:
        [allowance] = session.scalars(select(KudosAllowance))
    # 00:30 UTC is 13:30 in Auckland, the same calendar day there.
    assert (allowance.day, allowance.used) == (dt.date(2026, 3, 29), 1)


def test_a_withdrawal_gives_the_allowance_back_to_the_day_it_was_counted_against(
    database: Database, principle_id: int
) -> None:
    # 01:30 UTC on 20 April: still the 19th in New York. The giver was not yet described by
    # Slack when they gave (no timezone: counted in UTC, the 20th); by the time the kudos is
    # withdrawn the directory knows them in New York.
    at = dt.datetime(2026, 4, 20, 1, 30, tzinfo=dt.UTC)
    giving = Giving(
        recipients=(Recipient(BEN),),
        principle_id=principle_id,
        message="for the night shift",
        source=Source.REACTION,
    )
    place = Place(team_id=TEAM, channel_id="C0OPS", audience=Audience.PUBLIC, message_ts="20.1")
    with database.transaction() as session:
        given = give(
            session=session, giving=giving, giver=Giver(ANA), place=place, limit=LIMIT, now=at
        )
    assert used(database) == 1
    with database.transaction() as session:
        withdraw_group(
            session=session,
            team_id=TEAM,
            giver_id=ANA,
            giver_timezone="America/New_York",
            group_id=given.group_id,
            now=at + dt.timedelta(minutes=1),
        )
    assert used(database) == 0
    with database.reading() as session:
        days = session.execute(select(KudosAllowance.day, KudosAllowance.used)).all()
    assert [(day, n) for day, n in days] == [(dt.date(2026, 4, 20), 0)]
