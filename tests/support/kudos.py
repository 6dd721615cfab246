"""Kudos test helpers: the rows the bot recorded, and Slack-shaped modal/shortcut payloads."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import func, select

from bot.blocks.ids import GIVE_KUDOS, KudosBlock, KudosInput, Shortcut, View
from bot.db.engine import Database
from bot.db.models import Kudos, KudosAllowance, OutboxMessage
from tests.support.delivery import deliver_all
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_client import DEFAULT_CHANNEL, DEFAULT_USER

GIVER = DEFAULT_USER
DANA, BEN, CARL = "UDANA004", "UBEN0002", "UCARL003"


def kudos_rows(database: Database, *, include_withdrawn: bool = False) -> list[Kudos]:
    with database.transaction() as session:
        query = select(Kudos).order_by(Kudos.id)
        if not include_withdrawn:
            query = query.where(Kudos.withdrawn_at.is_(None))
        return list(session.scalars(query))


def allowance_used(database: Database, giver: str = GIVER) -> int:
    with database.transaction() as session:
        rows = session.scalars(select(KudosAllowance).where(KudosAllowance.giver_id == giver))
        return sum(row.used for row in rows)


def opened_view(slack: FakeSlack, index: int = -1) -> dict[str, Any]:
    view = slack.wait_for("views.open")[index]["view"]
    return json.loads(view) if isinstance(view, str) else view


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def submission(
    slack: FakeSlack,
    *,
    recipients: list[str],
    principle: str | None,
    message: str | None,
    share_in: str | None = DEFAULT_CHANNEL,
    user: str = GIVER,
    source: str = "command",
    blocks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A view_submission payload as Slack sends it for the kudos modal."""
    option = {"text": {"type": "plain_text", "text": principle}, "value": principle}
    values = {
        KudosBlock.RECIPIENTS: {
            KudosInput.RECIPIENTS: {"type": "multi_users_select", "selected_users": recipients}
        },
        KudosBlock.PRINCIPLE: {
            KudosInput.PRINCIPLE: {
                "type": "static_select",
                "selected_option": option if principle else None,
            }
        },
        KudosBlock.MESSAGE: {KudosInput.MESSAGE: {"type": "plain_text_input", "value": message}},
        KudosBlock.SHARE_IN: {
            KudosInput.SHARE_IN: {
                "type": "conversations_select",
                "selected_conversation": share_in,
            }
        },
    }
    input_blocks = blocks or [{"type": "input", "block_id": str(b)} for b in KudosBlock]
    response_urls = (
        [
            {
                "block_id": KudosBlock.SHARE_IN,
                "action_id": KudosInput.SHARE_IN,
                "channel_id": share_in,
                "response_url": slack.response_url("modal"),
            }
        ]
        if share_in
        else []
    )
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "tidewater"},
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": "AMISSIONBOT",
        "token": "legacy-verification-token",
        "trigger_id": "99.1234.trigger",
        "view": {
            "id": "V123",
            "type": "modal",
            "team_id": TEAM_ID,
            "callback_id": View.GIVE_KUDOS,
            "private_metadata": json.dumps({"source": source, "channel": DEFAULT_CHANNEL}),
            "blocks": input_blocks,
            "state": {"values": values},
        },
        "response_urls": response_urls,
    }


def message_shortcut(
    slack: FakeSlack, *, author: str, text: str, channel: str = DEFAULT_CHANNEL
) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": Shortcut.GIVE_KUDOS_FOR_MESSAGE,
        "trigger_id": "77.1234.trigger",
        "team": {"id": TEAM_ID, "domain": "tidewater"},
        "user": {"id": GIVER, "team_id": TEAM_ID},
        "channel": {"id": channel, "name": "general"},
        "message_ts": "1700000123.000200",
        "message": {"type": "message", "user": author, "ts": "1700000123.000200", "text": text},
        "response_url": slack.response_url("shortcut"),
        "token": "legacy-verification-token",
    }


def give_kudos_button(value: str | None, channel: str | None = DEFAULT_CHANNEL) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "tidewater"},
        "user": {"id": GIVER, "team_id": TEAM_ID},
        "api_app_id": "AMISSIONBOT",
        "token": "legacy-verification-token",
        "trigger_id": "55.1234.trigger",
        "container": {"type": "message", "channel_id": channel},
        "actions": [
            {
                "type": "button",
                "action_id": GIVE_KUDOS,
                "block_id": "morning",
                "value": value,
                "action_ts": "1700000000.1",
            }
        ],
    }
    if channel:
        payload["channel"] = {"id": channel, "name": "general"}
    return payload


def outbox_settled(database: Database, timeout: float = 10.0) -> None:
    """Deliver until the sender has nothing left to send (every outbox row sent, failed or
    dropped); rows due later (a retry) are waited for."""
    deadline = time.monotonic() + timeout
    while True:
        deliver_all()
        with database.reading() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(["pending", "sending"]))
            )
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{waiting} outbox message(s) still unsent after {timeout}s")
        time.sleep(0.02)
