"""Kudos given by reaction or in a message count like any other, and exports say how each was
given."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import Bot
from tests.support.conversation import message, new_ts, reaction_added, wait_until
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import BEN, CARL, GIVER, kudos_rows, outbox_settled


def test_leaderboards_count_reactions_and_messages_and_exports_say_how_each_was_given(
    bot: Bot, slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.command("/kudos", f"<@{BEN}> #plain-words by command")
    bot.event(reaction_added(user=CARL, name="dart", item_user=BEN, ts=new_ts()))
    bot.event(message(f"kudos <@{BEN}> #fix-the-cause in a message", user=GIVER))
    wait_until(lambda: len(kudos_rows(bot.database)) == 3, what="three kudos")
    outbox_settled(bot.database)
    board = bot.command("/kudos", "leaderboard month")
    assert f"<@{BEN}>" in board.text
    assert "3" in board.text
    me = bot.command("/kudos", "me", user=BEN).text
    assert "Own the outcome" in me
    assert "Fix the cause" in me
    settings = bot.runtime.settings
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MISSION_FILE", str(settings.mission_file))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    output = tmp_path / "kudos.csv"
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    assert main(["export", "--period", month, "--output", str(output)]) == 0
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert sorted(row["given_via"] for row in rows) == ["command", "message", "reaction"]
