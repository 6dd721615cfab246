"""Synchronising the mission file into a workspace's principles."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from bot.db.engine import Database
from bot.db.models import Mission, Principle
from bot.mission.file import MAX_PRINCIPLES, parse_mission
from bot.mission.service import MissionKeeper, load_catalog, sync_mission
from tests.support.missions import generated_mission

TEAM = "T0SYNC"
FIRST = """\
mission: Be useful.
principles:
  - {key: alpha, title: Alpha, category: One}
  - {key: beta, title: Beta, category: Two}
  - {key: gamma, title: Gamma, category: One}
"""


def sync(database: Database, text: str, team: str = TEAM) -> None:
    with database.transaction() as session:
        sync_mission(session, team_id=team, document=parse_mission(text))


def principles(database: Database, team: str = TEAM) -> dict[str, Principle]:
    with database.transaction() as session:
        rows = session.scalars(select(Principle).where(Principle.team_id == team))
        return {row.key: row for row in rows}


def test_first_sync_creates_mission_and_principles_in_file_order(database: Database) -> None:
    sync(database, FIRST)
    with database.transaction() as session:
        catalog = load_catalog(session, team_id=TEAM)
        assert session.get(Mission, TEAM) is not None
    assert catalog.statement == "Be useful."
    assert [(p.number, p.key) for p in catalog.principles] == [
        (1, "alpha"),
        (2, "beta"),
        (3, "gamma"),
    ]
    assert [(c, [p.key for p in ps]) for c, ps in catalog.by_category()] == [
        ("One", ["alpha", "gamma"]),
        ("Two", ["beta"]),
    ]


def test_a_changed_title_updates_in_place_keeping_the_id(database: Database) -> None:
    sync(database, FIRST)
    before = principles(database)["beta"].id
    sync(database, FIRST.replace("title: Beta", "title: Better beta"))
    after = principles(database)["beta"]
    assert (after.id, after.title) == (before, "Better beta")


def test_a_removed_principle_is_retired_not_deleted_and_returns_when_restored(
    database: Database,
) -> None:
    sync(database, FIRST)
    without_beta = FIRST.replace("  - {key: beta, title: Beta, category: Two}\n", "")
    sync(database, without_beta)
    rows = principles(database)
    assert rows["beta"].retired_at is not None
    with database.transaction() as session:
        assert load_catalog(session, team_id=TEAM).keys == ["alpha", "gamma"]
    sync(database, FIRST)
    assert principles(database)["beta"].retired_at is None


def test_order_follows_the_file(database: Database) -> None:
    sync(database, FIRST)
    reordered = (
        "mission: Be useful.\nprinciples:\n"
        "  - {key: gamma, title: Gamma}\n"
        "  - {key: alpha, title: Alpha}\n"
        "  - {key: beta, title: Beta}\n"
    )
    sync(database, reordered)
    with database.transaction() as session:
        assert load_catalog(session, team_id=TEAM).keys == ["gamma", "alpha", "beta"]


def test_workspaces_are_kept_apart(database: Database) -> None:
    sync(database, FIRST, team="T0ONE")
    sync(database, FIRST.replace("alpha", "delta"), team="T0TWO")
    assert set(principles(database, "T0ONE")) == {"alpha", "beta", "gamma"}
    assert set(principles(database, "T0TWO")) == {"delta", "beta", "gamma"}


def test_concurrent_first_syncs_of_one_team_create_each_principle_once(
    db_url: str,
) -> None:
    # Two processes (here: two keepers with their own engines) meet a new team together.
    document = parse_mission(FIRST)
    databases = [Database(db_url), Database(db_url)]
    errors: list[BaseException] = []

    def run(db: Database) -> None:
        try:
            MissionKeeper(document).ensure_synced(db, TEAM)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(principles(databases[0])) == ["alpha", "beta", "gamma"]
    for db in databases:
        db.dispose()


def test_retired_at_uses_the_given_clock(database: Database) -> None:
    sync(database, FIRST)
    moment = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    with database.transaction() as session:
        sync_mission(
            session,
            team_id=TEAM,
            document=parse_mission(
                FIRST.replace("  - {key: gamma, title: Gamma, category: One}\n", "")
            ),
            now=moment,
        )
    assert principles(database)["gamma"].retired_at == moment


def test_the_largest_mission_check_allows_is_stored_whole(database: Database) -> None:
    document = parse_mission(generated_mission(MAX_PRINCIPLES, longest=True))
    with database.transaction() as session:
        sync_mission(session, team_id=TEAM, document=document)
    with database.transaction() as session:
        catalog = load_catalog(session, team_id=TEAM)
    assert catalog.company == document.company
    assert catalog.statement == document.statement
    assert [(p.key, p.title, p.category, p.emoji, p.description) for p in catalog.principles] == [
        (p.key, p.title, p.category, p.emoji, p.description) for p in document.principles
    ]
