"""Requests from a workspace the bot's token isn't installed in are refused; nothing recorded."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.config import Settings
from bot.db.engine import Database
from bot.db.models import Base
from bot.people import find_people
from bot.slack.installation import FOREIGN_WORKSPACE, Installation
from tests.conftest import Bot, running_bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import DANA, give_kudos_button, submission

EVIL = "T0EVIL"
ENTERPRISE = "E0TIDE"
SISTER = "T0SISTER"  # another workspace of the same enterprise


def rows_in_every_table(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def nothing_recorded(database: Database) -> bool:
    return not any(rows_in_every_table(database).values())


def from_team(payload: dict[str, object], team: str) -> dict[str, object]:
    """The same interaction payload, as Slack would send it from `team`."""
    text = json.dumps(payload).replace(TEAM_ID, team)
    result: dict[str, object] = json.loads(text)
    return result


def test_kudos_from_a_foreign_workspace_is_refused_and_nothing_recorded(
    bot: Bot, slack: FakeSlack
) -> None:
    reply = bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks", team=EVIL)
    assert reply.status == 200
    assert FOREIGN_WORKSPACE in reply.text
    assert nothing_recorded(bot.database)
    assert [c.method for c in slack.calls() if c.method != "auth.test"] == []


def test_mission_from_a_foreign_workspace_is_refused_and_creates_no_mission(bot: Bot) -> None:
    reply = bot.command("/mission", team=EVIL)
    assert reply.status == 200
    assert FOREIGN_WORKSPACE in reply.text
    assert "We move our customers" not in reply.text
    assert nothing_recorded(bot.database)


@pytest.mark.parametrize("kind", ["button", "modal submission"])
def test_an_interaction_from_a_foreign_workspace_is_refused_and_nothing_recorded(
    bot: Bot, slack: FakeSlack, kind: str
) -> None:
    payload = (
        give_kudos_button("plain-words")
        if kind == "button"
        else submission(slack, recipients=[DANA], principle="plain-words", message="thanks")
    )
    reply = bot.interaction(from_team(payload, EVIL))
    assert reply.status == 200
    assert reply.body == b""
    assert nothing_recorded(bot.database)
    assert slack.calls("views.open") == []
    assert slack.calls("chat.postMessage") == []


def test_an_event_from_a_foreign_workspace_is_refused_and_nothing_recorded(
    bot: Bot, slack: FakeSlack
) -> None:
    home_opened = {"type": "app_home_opened", "user": "UEVIL001", "channel": "D1", "tab": "home"}
    reply = bot.event(home_opened, team=EVIL)
    assert reply.status == 200
    assert nothing_recorded(bot.database)  # not even the processed-event row
    assert slack.calls("views.publish") == []


def test_the_own_workspace_is_still_served(bot: Bot) -> None:
    reply = bot.command("/mission")
    assert "We move our customers" in reply.text
    assert rows_in_every_table(bot.database)["missions"] == 1


@pytest.fixture
def enterprise_bot(settings: Settings, slack: FakeSlack) -> Iterator[Bot]:
    """The bot installed org-wide on Enterprise Grid: auth.test names the enterprise."""
    slack.auth_test = {"team_id": None, "enterprise_id": ENTERPRISE, "is_enterprise_install": True}
    with running_bot(settings, slack) as bot:
        yield bot


def enterprise_command(bot: Bot, team: str, enterprise: str | None) -> str:
    body = bot.command_body("/mission", team=team)
    body = body.replace("is_enterprise_install=false", "is_enterprise_install=true")
    return body + (f"&enterprise_id={enterprise}" if enterprise else "")


def test_an_org_wide_install_serves_every_workspace_of_its_enterprise(
    enterprise_bot: Bot,
) -> None:
    reply = enterprise_bot.post(enterprise_command(enterprise_bot, SISTER, ENTERPRISE))
    assert reply.status == 200
    assert "We move our customers" in reply.text


@pytest.mark.parametrize("enterprise", ["E0OTHER", None])
def test_an_org_wide_install_refuses_a_workspace_outside_its_enterprise(
    enterprise_bot: Bot, enterprise: str | None
) -> None:
    reply = enterprise_bot.post(enterprise_command(enterprise_bot, EVIL, enterprise))
    assert reply.status == 200
    assert FOREIGN_WORKSPACE in reply.text
    assert nothing_recorded(enterprise_bot.database)


def test_auth_test_failing_is_asked_again_later_and_foreign_teams_wait(slack: FakeSlack) -> None:
    now = [0.0]
    client = WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    installation = Installation(client, retry_seconds=30, monotonic=lambda: now[0])
    slack.fail("auth.test", status=503, error="service_unavailable")
    assert installation.identity() is None
    now[0] = 10.0
    assert installation.identity() is None  # not asked again within retry_seconds
    assert len(slack.calls("auth.test")) == 1
    now[0] = 31.0
    identity = installation.identity()
    assert identity is not None
    assert identity.serves(team_id=TEAM_ID, enterprise_id=None)
    assert not identity.serves(team_id=EVIL, enterprise_id=None)
    installation.identity()
    assert len(slack.calls("auth.test")) == 2  # cached once known


def test_an_org_install_lists_each_of_its_workspaces_and_keeps_everyone_under_the_enterprise(
    enterprise_bot: Bot, slack: FakeSlack
) -> None:
    slack.org_teams = [SISTER, TEAM_ID]
    for n in range(3):
        slack.add_user(f"W0PERSON{n}", team_id=SISTER if n else TEAM_ID)
    enterprise_bot.runtime.people.sync_once()
    # An org-wide token must name the workspace to list; people are the enterprise's.
    assert sorted(c.get("team_id") for c in slack.calls("users.list")) == sorted([SISTER, TEAM_ID])
    with enterprise_bot.database.reading() as session:
        found = find_people(
            session=session, team_id=ENTERPRISE, user_ids=[f"W0PERSON{n}" for n in range(3)]
        )
    assert len(found) == 3


def test_an_org_install_warns_at_start_of_records_kept_under_a_workspace_before(
    settings: Settings, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    with running_bot(settings, slack) as workspace_bot:
        assert workspace_bot.command("/mission").status == 200  # a mission under TEAM_ID
    slack.auth_test = {"team_id": None, "enterprise_id": ENTERPRISE, "is_enterprise_install": True}
    with caplog.at_level(logging.WARNING), running_bot(settings, slack):
        pass
    [warning] = [r.getMessage() for r in caplog.records if "org-wide install" in r.getMessage()]
    assert ENTERPRISE in warning
    assert TEAM_ID in warning
