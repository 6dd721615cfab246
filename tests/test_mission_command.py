"""`/mission` over signed HTTP against the served app."""

from __future__ import annotations

from tests.conftest import Bot


def test_mission_lists_statement_and_principles_grouped_by_category(bot: Bot) -> None:
    reply = bot.command("/mission")
    assert reply.status == 200
    body = reply.json
    assert body["response_type"] == "ephemeral"
    text = reply.text
    assert "We move our customers' goods" in text
    assert text.index("*Easy*") < text.index("*Recognize*") < text.index("*Solve*")
    assert "`1.` :telephone_receiver: *Be easy to reach*  `#easy-to-reach`" in text
    assert "`9.` :bar_chart: *Decide with data, act with judgment*  `#decide-with-data`" in text
