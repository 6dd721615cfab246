"""Only requests signed by Slack within the last five minutes are handled."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot.db.models import Mission
from tests.conftest import Bot
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import DANA, allowance_used, kudos_rows
from tests.support.slack_client import sign

pytestmark = pytest.mark.served  # verification in front of the real server


def _missions(bot: Bot) -> int:
    with bot.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Mission)) or 0


@pytest.mark.parametrize(
    "tamper",
    ["unsigned", "wrong secret", "body changed", "five minutes old"],
)
def test_unverified_requests_get_401_and_change_nothing(bot: Bot, tamper: str) -> None:
    body = bot.command_body("/mission")
    now = int(time.time())
    if tamper == "unsigned":
        reply = bot.post(body, signature="")
    elif tamper == "wrong secret":
        reply = bot.post(body, signature=sign(body, now, "not-the-secret"))
    elif tamper == "body changed":
        reply = bot.post(body + "&x=1", signature=sign(body, now))
    else:
        old = now - 5 * 60 - 5
        reply = bot.post(body, timestamp=old, signature=sign(body, old))
    assert reply.status == 401
    assert b"We move our customers" not in reply.body
    assert _missions(bot) == 0


def test_a_correctly_signed_request_is_handled(bot: Bot) -> None:
    assert bot.command("/mission").status == 200
    assert _missions(bot) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    ],
)
def test_a_malformed_body_gets_400_not_a_server_error(
    bot: Bot, body: str, content_type: str
) -> None:
    reply = bot.post(body, content_type=content_type)
    assert reply.status == 400
    assert _missions(bot) == 0


@pytest.mark.parametrize(
    "tamper", ["replayed ten minutes later", "signed for another body", "body changed"]
)
def test_replayed_or_tampered_kudos_record_nothing_and_send_nothing(
    bot: Bot, slack: FakeSlack, tamper: str
) -> None:
    body = bot.command_body("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    now = int(time.time())
    if tamper == "replayed ten minutes later":
        # A request Slack really signed, captured and sent again after the 5-minute window.
        old = now - 10 * 60
        reply = bot.post(body, timestamp=old, signature=sign(body, old))
    elif tamper == "signed for another body":
        other = bot.command_body("/kudos", "help")
        reply = bot.post(body, timestamp=now, signature=sign(other, now))
    else:
        reply = bot.post(body.replace("UDANA004", "UCARL003"), signature=sign(body, now))
    assert reply.status == 401
    assert kudos_rows(bot.database) == []
    assert allowance_used(bot.database) == 0
    assert [c.method for c in slack.calls() if c.method != "auth.test"] == []


@pytest.mark.parametrize(
    "body",
    ["token=random&ssl_check=1&command=%2Fmission", "ssl_check=0&token=random", "ssl_check=1&x=y"],
)
def test_only_slacks_own_ssl_check_passes_unsigned(bot: Bot, slack: FakeSlack, body: str) -> None:
    # Slack's certificate check is exactly `ssl_check=1&token=…` (fixtures/slack/ssl_check.json
    # gets 200); a command riding on it is still an unsigned command.
    reply = bot.post(body, signature="")
    assert reply.status == 401
    assert _missions(bot) == 0
