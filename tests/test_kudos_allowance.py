"""The daily allowance under concurrency: 20 simultaneous requests never exceed it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Bot
from tests.support.kudos import GIVER, allowance_used, kudos_rows

CONCURRENT_REQUESTS = 20
DAILY_LIMIT = 5  # the default KUDOS_DAILY_LIMIT


def test_twenty_concurrent_kudos_from_one_giver_never_exceed_the_allowance(bot: Bot) -> None:
    bot.command("/kudos", "help")  # synchronise the mission before the race starts

    def give(n: int) -> tuple[int, str]:
        reply = bot.command("/kudos", f"<@UPEER{n:04d}> #plain-words thanks, no. {n}")
        return reply.status, reply.text

    with ThreadPoolExecutor(max_workers=CONCURRENT_REQUESTS) as pool:
        replies = list(pool.map(give, range(CONCURRENT_REQUESTS)))

    assert all(status == 200 for status, _ in replies)
    refused = [text for _, text in replies if "today's kudos allowance" in text]
    rows = kudos_rows(bot.database)
    assert len(rows) == DAILY_LIMIT
    assert len(refused) == CONCURRENT_REQUESTS - DAILY_LIMIT
    assert {r.giver_id for r in rows} == {GIVER}
    assert allowance_used(bot.database) == DAILY_LIMIT
