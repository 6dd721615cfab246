"""The database goes away mid-run and comes back: quick "try again", nothing half-written.

PostgreSQL is reached through a TCP proxy that the test breaks (tests/support/tcp_proxy.py):
its port either refuses connections or accepts them and then never answers. The bot is not
restarted at any point.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.db.engine import Database
from tests.conftest import Bot
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import DANA, allowance_used, kudos_rows, outbox_settled
from tests.support.stall import stopwatch
from tests.support.tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.parametrize("db_url", ["postgresql"], indirect=True),
    pytest.mark.served,  # the outage as a client meets it: over HTTP, through waitress
]

SLACK_WINDOW_S = 3.0


@pytest.fixture
def proxy(db_url: str) -> Iterator[TcpProxy]:
    url = make_url(db_url)
    tcp = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield tcp
    tcp.stop()


@pytest.fixture
def settings(settings: Settings, db_url: str, proxy: TcpProxy) -> Settings:
    """The usual test settings, with the database reached through the proxy."""
    proxied = make_url(db_url).set(host="127.0.0.1", port=proxy.port)
    return settings.model_copy(
        update={"database_url": proxied.render_as_string(hide_password=False)}
    )


@pytest.fixture
def direct(db_url: str) -> Iterator[Database]:
    """The same database, not through the proxy: what is really there."""
    database = Database(db_url)
    yield database
    database.dispose()


def timed(action: Callable[[], object]) -> tuple[object, float]:
    """The action's result and the time its code took: the clock's less the moments a busy
    machine did not let this process run (tests/support/stall.py). The database's connect
    timeout is a socket's wait, the same at any load."""
    with stopwatch() as watch:
        result = action()
    return result, watch.code_time()


def give(bot: Bot, message: str) -> object:
    return bot.command("/kudos", f"<@{DANA}|dana> #plain-words {message}")


@pytest.mark.parametrize("failure", ["refused", "blackhole"])
def test_commands_answer_try_again_within_slacks_window_while_the_database_is_away(
    bot: Bot, slack: FakeSlack, proxy: TcpProxy, direct: Database, failure: str
) -> None:
    assert bot.command("/mission").status == 200  # the pool holds live connections now
    proxy.down() if failure == "refused" else proxy.blackhole()

    # (`/mission` itself still answers: the catalog is cached.)
    for command in (lambda: give(bot, "while away"), lambda: bot.command("/kudos", "me")):
        reply, seconds = timed(command)
        assert seconds < SLACK_WINDOW_S
        assert reply.status == 200  # type: ignore[attr-defined]
        assert "try again in a moment" in reply.text  # type: ignore[attr-defined]
    health, seconds = timed(lambda: bot.get("/healthz"))
    assert seconds < SLACK_WINDOW_S
    assert health.status == 503  # type: ignore[attr-defined]

    assert kudos_rows(direct) == []
    assert allowance_used(direct) == 0
    assert slack.calls("chat.postMessage") == []


@pytest.mark.parametrize("failure", ["refused", "blackhole"])
def test_the_bot_recovers_without_a_restart_when_the_database_returns(
    bot: Bot, slack: FakeSlack, proxy: TcpProxy, direct: Database, failure: str
) -> None:
    assert give(bot, "before").status == 200  # type: ignore[attr-defined]
    proxy.down() if failure == "refused" else proxy.blackhole()
    assert "try again" in give(bot, "during").text  # type: ignore[attr-defined]
    assert bot.get("/healthz").status == 503

    proxy.up()
    assert bot.get("/healthz").status == 200
    reply = give(bot, "after")
    assert reply.status == 200  # type: ignore[attr-defined]
    assert "try again" not in reply.text  # type: ignore[attr-defined]
    assert [k.message for k in kudos_rows(direct)] == ["before", "after"]
    assert allowance_used(direct) == 2
    # The sender finds its database again by itself (a message it had claimed when the
    # database went away waits out its lease first); each kudos announced and DMed once, the
    # two announcements perhaps in one message.
    outbox_settled(direct, timeout=75)
    posts = slack.calls("chat.postMessage")
    general = [str(c.params) for c in posts if c["channel"] == "CGENERAL01"]
    assert [sum(word in post for post in general) for word in ("before", "after")] == [1, 1]
    assert len([c for c in posts if c["channel"] == DANA]) == 2
