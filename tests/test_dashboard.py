"""The dashboard through Flask's test client, on SQLite and PostgreSQL: every page for every
role, whose words each viewer may read (pages, JSON and CSV), sign-in links (single use,
expiry, forgery, cross-workspace, two browsers at once), CSRF on sign-out, the role read again
on every click, bad input answered 400, the numbers against hand counts, and `/kudos
dashboard` through the real Bolt app."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.db.engine import Database
from bot.db.models import Person as PersonRow
from bot.reports.usergroup_tallies import is_current
from bot.web.app import CSP
from bot.web.groups import SlackGroups
from bot.web.oidc import ISSUER, OidcRefused, check_claims
from tests.conftest import Bot
from tests.support.dashboard import (
    ANA,
    ANA_BEN_SECRET,
    BEN,
    BEN_CARL_SECRET,
    CARL,
    ENG,
    GONE,
    HOSTILE_NAME,
    LISTED,
    MANAGER,
    NOW,
    OPS,
    OTHER_TEAM,
    OTHER_WORDS,
    PUBLIC_WORDS,
    TEAM,
    Clock,
    dashboard,
    dashboard_settings,
    link,
    populate,
    signed_in,
)
from tests.support.fake_slack import FakeSlack
from tests.support.reports import kudos_row, principle_ids, seed

EVERYONE_PAGES = [
    "/dashboard",
    "/dashboard/principles",
    "/dashboard/principles/plain-words",
    "/dashboard/principles/no-surprises",
    "/dashboard/leaderboards",
]
MANAGER_PAGES = ["/dashboard/people", "/dashboard/network", "/dashboard/health"]
PEOPLE_PAGES = [f"/dashboard/people/{who}" for who in (ANA, BEN, CARL)]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(db_url: str, clock: Clock) -> Iterator[tuple[Flask, Database]]:
    database = Database(db_url)
    populate(database)
    app = dashboard(dashboard_settings(db_url), database, clock)
    yield app, database
    # A user group's tallies are brought up to date after its page answered: done before
    # the next test empties the tables.
    assert app.extensions["missionbot"].group_tallies.wait(60)
    database.dispose()


def test_every_page_for_every_role(world: tuple[Flask, Database]) -> None:
    app, database = world
    for viewer in (MANAGER, LISTED, ANA, CARL):
        client = signed_in(app, database, viewer)
        manager = viewer in (MANAGER, LISTED)
        for page in EVERYONE_PAGES + MANAGER_PAGES + PEOPLE_PAGES:
            allowed = manager or page not in MANAGER_PAGES + PEOPLE_PAGES or page.endswith(viewer)
            suffixes = (
                ("", "?format=json", "?format=csv") if viewer == MANAGER else ("?format=json",)
            )
            if not allowed:
                suffixes = ("", "?format=json")
            for suffix in suffixes:
                reply = client.get(page + suffix)
                expected = 200 if allowed else 403
                assert reply.status_code == expected, (viewer, page + suffix, reply.data[:200])
                if not allowed and suffix != "?format=json":
                    assert b"for the bot&#39;s managers" in reply.data
                if suffix == "?format=json" and allowed:
                    assert reply.json
                    assert "tables" in reply.json


def test_signed_out_visitors_are_sent_to_sign_in(world: tuple[Flask, Database]) -> None:
    app, _ = world
    client = app.test_client()
    for page in EVERYONE_PAGES + MANAGER_PAGES:
        reply = client.get(page)
        assert reply.status_code == 302
        assert reply.headers["Location"].endswith("/dashboard/signin")
        assert client.get(page + "?format=json").status_code == 401
    assert b"/kudos dashboard" in client.get("/dashboard/signin").data


def _everything(client: Any, pages: list[str]) -> str:
    seen = []
    for page in pages:
        for suffix in ("?period=all", "?format=json", "?period=all&format=json"):
            reply = client.get(page + suffix)
            assert reply.status_code == 200, (page, suffix)
            seen.append(reply.get_data(as_text=True))
        seen.append(client.get(f"{page}?format=csv&table=kudos&period=all").get_data(True))
    return "\n".join(seen)


def test_words_follow_the_audience_rule(world: tuple[Flask, Database]) -> None:
    app, database = world
    readable = [*EVERYONE_PAGES, f"/dashboard/people/{CARL}"]
    carl = _everything(signed_in(app, database, CARL), readable)
    assert PUBLIC_WORDS in carl
    assert ANA_BEN_SECRET not in carl  # a third person to a private-channel kudos
    assert BEN_CARL_SECRET in carl  # named in it
    manager = _everything(
        signed_in(app, database, MANAGER), readable + PEOPLE_PAGES + MANAGER_PAGES
    )
    assert ANA_BEN_SECRET not in manager
    assert BEN_CARL_SECRET not in manager
    ben = _everything(signed_in(app, database, BEN), [*EVERYONE_PAGES, f"/dashboard/people/{BEN}"])
    assert ANA_BEN_SECRET in ben
    assert BEN_CARL_SECRET in ben
    assert OTHER_WORDS not in carl + manager + ben


def test_counts_are_whole_and_match_hand_counts(world: tuple[Flask, Database]) -> None:
    app, database = world
    client = signed_in(app, database, CARL)
    summary = client.get("/dashboard?period=2026-11&format=json").json["tables"]["summary"]
    rows = {row["Measure"]: row for row in summary}
    # 5 counted kudos in November (one withdrawn), from ANA, BEN, CARL, to BEN, CARL, ANA.
    assert rows["Kudos"]["This period"] == 5
    assert rows["Kudos"]["Previous period"] == 2
    assert rows["Kudos"]["Change"] == "+3 (+150%)"
    assert rows["People who gave"]["This period"] == 3
    assert rows["People who received"]["This period"] == 3
    # Active: manager, listed, ana, ben, carl (GONE is deactivated).
    assert rows["Active people (not bots, not deactivated)"]["This period"] == 5
    assert rows["Share of active people who gave"]["This period"] == "60%"
    board = client.get("/dashboard/leaderboards?period=2026-11&format=json").json["tables"]
    ranks = {row["Person"]: (row["Rank"], row["Kudos"]) for row in board["receivers"]}
    assert ranks == {HOSTILE_NAME: (1, 3), "Carl": (2, 1), "Ana": (2, 1)}  # ties ranked alike
    principles = client.get("/dashboard/principles?period=2026-11&format=json").json
    plain = next(
        r for r in principles["tables"]["principles"] if r["Principle"] == "1. Plain words"
    )
    assert (plain["Kudos"], plain["Givers"], plain["Receivers"]) == (3, 2, 1)
    assert plain["Top-5 share"] == "100%"
    assert sum(plain["Last 12 weeks"]) == 5  # 3 in November, 2 in October


def test_filters_change_the_numbers(world: tuple[Flask, Database]) -> None:
    app, database = world
    client = signed_in(app, database, MANAGER)

    def kudos(query: str) -> int:
        period = "" if "period=" in query else "period=2026-11&"
        reply = client.get(f"/dashboard?{period}format=json&{query}")
        assert reply.status_code == 200, reply.data
        return int(reply.json["tables"]["summary"][0]["This period"])

    assert kudos("") == 5
    assert kudos("principle=no-surprises") == 2
    assert kudos("channel=CPRIV0001") == 1
    assert kudos(f"group={OPS}") == 3  # given or received by CARL
    assert kudos(f"group={ENG}") == 5
    assert kudos("period=custom&from=2026-11-10&to=2026-11-10") == 5
    assert kudos("period=custom&from=2026-11-11&to=2026-11-30") == 0
    network = client.get("/dashboard/network?period=2026-11&format=json").json["tables"]
    assert network["groups"] == [
        {"From \\ to": "Engineering", "Engineering": 2, "Operations": 1},
        {"From \\ to": "Operations", "Engineering": 2, "Operations": 0},
    ]


def test_a_groups_pages_read_its_tallies_once_they_are_current(
    world: tuple[Flask, Database],
) -> None:
    """The first view of a group's pages reads its raw kudos and asks for its tallies (in
    the background); once they are current the same pages read them, with the same numbers."""
    app, database = world
    client = signed_in(app, database, MANAGER)
    pages = ("", "/principles", "/principles/plain-words", "/leaderboards")

    def shown() -> list[Any]:
        replies = [
            client.get(f"/dashboard{page}?period=2026-11&format=json&group={OPS}") for page in pages
        ]
        assert [r.status_code for r in replies] == [200] * len(pages)
        return [r.json["tables"] for r in replies]

    raw = shown()
    assert app.extensions["missionbot"].group_tallies.wait(60)
    with database.reading() as session:
        assert is_current(session, TEAM, OPS, frozenset({CARL}))
    assert shown() == raw
    assert raw[0]["summary"][0]["This period"] == 3


@pytest.mark.parametrize(
    "address",
    [
        "/dashboard?period=nope",
        "/dashboard?period=2026-13",
        "/dashboard?period=custom",
        "/dashboard?period=custom&from=2026-11-30&to=2026-11-01",
        "/dashboard?period=custom&from=yesterday&to=2026-11-01",
        "/dashboard?period=custom&from=1900-01-01&to=2026-11-01",
        "/dashboard?group=SNOSUCH01",
        "/dashboard?group=<script>",
        "/dashboard?channel=not-a-channel",
        "/dashboard?principle=no-such-principle",
        "/dashboard?principle=%3Cscript%3E",
        "/dashboard?colour=red",
        "/dashboard?format=xml",
        "/dashboard?format=csv&table=nope",
        "/dashboard/principles/no-such-principle",
        "/dashboard/people/not-a-user",
        "/dashboard/health?channel=CPRIV0001",
        "/dashboard?period=" + "9" * 5000,
        "/dashboard?period=week&period=month",
    ],
)
def test_bad_input_is_a_clear_400(world: tuple[Flask, Database], address: str) -> None:
    app, database = world
    client = signed_in(app, database, MANAGER)
    reply = client.get(address)
    assert reply.status_code == 400, reply.data[:300]
    assert b"Traceback" not in reply.data
    assert b"That can&#39;t be shown" in reply.data
    if "format=" not in address:
        joined = "&" if "?" in address else "?"
        as_json = client.get(address + joined + "format=json")
        assert as_json.status_code == 400
        assert as_json.json["error"]


def test_names_with_markup_are_escaped_and_csv_is_formula_safe(
    world: tuple[Flask, Database],
) -> None:
    app, database = world
    client = signed_in(app, database, MANAGER)
    page = client.get("/dashboard/leaderboards?period=2026-11").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    exported = client.get("/dashboard/leaderboards?period=2026-11&format=csv").get_data(True)
    names = [row[1] for row in csv.reader(io.StringIO(exported))][1:]
    assert all(not name.startswith(("=", "+", "-", "@")) for name in names)
    assert any(name.startswith("'<script>") or "script" in name for name in names)


def test_security_headers_and_cookie(world: tuple[Flask, Database], db_url: str) -> None:
    app, database = world
    client = app.test_client()
    reply = client.get(link(database, ANA))
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # the public URL is http here
    expires = dt.datetime.strptime(
        cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT"
    )
    assert expires.replace(tzinfo=dt.UTC) - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=12)
    page = client.get("/dashboard")
    assert page.headers["Content-Security-Policy"].startswith(CSP.split(";")[0])
    for part in (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ):
        assert part in page.headers["Content-Security-Policy"]
    assert b"<script" not in page.data
    assert b"style=" not in page.data
    secure_app = dashboard(
        dashboard_settings(db_url, missionbot_public_url="https://kudos.example"), database, Clock()
    )
    secure = secure_app.test_client().get(link(database, ANA))
    assert "Secure" in secure.headers["Set-Cookie"]


def test_a_link_signs_in_once(world: tuple[Flask, Database]) -> None:
    app, database = world
    address = link(database, ANA)
    first, second = app.test_client(), app.test_client()
    assert first.get(address).status_code == 302
    again = second.get(address)  # the same link, another browser
    assert again.status_code == 400
    assert b"used already" in again.data
    assert second.get("/dashboard").status_code == 302  # not signed in
    assert first.get("/dashboard").status_code == 200


def test_an_expired_or_forged_link_signs_no_one_in(
    world: tuple[Flask, Database], clock: Clock
) -> None:
    app, database = world
    address = link(database, ANA)
    clock.now = NOW + dt.timedelta(minutes=10, seconds=1)
    client = app.test_client()
    expired = client.get(address)
    assert expired.status_code == 400
    assert b"expired" in expired.data
    for forged in (
        address[:-1] + ("A" if address[-1] != "A" else "B"),
        "/dashboard/login/x",
        "/dashboard/login/" + "a" * 43,
        "/dashboard/login/%3Cscript%3E",
    ):
        reply = client.get(forged)
        assert reply.status_code == 400, forged
        assert b"isn&#39;t one I made" in reply.data
    assert client.get("/dashboard").status_code == 302
    clock.now = NOW + dt.timedelta(minutes=9)
    assert client.get(link(database, ANA, now=NOW)).status_code == 302


def test_two_browsers_opening_one_link_at_once_sign_in_one(
    world: tuple[Flask, Database],
) -> None:
    app, database = world

    def open_link(address: str, barrier: threading.Barrier, results: list[int]) -> None:
        client = app.test_client()
        barrier.wait()
        results.append(client.get(address).status_code)

    for _ in range(5):
        address, barrier, results = link(database, ANA), threading.Barrier(4), []
        threads = [
            threading.Thread(target=open_link, args=(address, barrier, results)) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [302, 400, 400, 400]


def test_sessions_are_bound_to_their_workspace(world: tuple[Flask, Database]) -> None:
    app, database = world
    other = signed_in(app, database, ANA, team=OTHER_TEAM)
    summary = other.get("/dashboard?period=2026-11&format=json").json["tables"]["summary"]
    assert summary[0]["This period"] == 3  # the other workspace's three, none of TEAM's
    words = other.get(f"/dashboard/people/{ANA}?period=2026-11").get_data(True)
    assert OTHER_WORDS in words
    assert PUBLIC_WORDS not in words
    assert other.get("/dashboard/network").status_code == 403  # not a manager there
    ours = signed_in(app, database, ANA).get(f"/dashboard/people/{ANA}?period=2026-11")
    assert OTHER_WORDS not in ours.get_data(True)


def test_sign_out_needs_the_csrf_token(world: tuple[Flask, Database]) -> None:
    app, database = world
    client = signed_in(app, database, ANA)
    assert client.post("/dashboard/logout").status_code == 400
    assert client.post("/dashboard/logout", data={"csrf": "forged"}).status_code == 400
    assert client.get("/dashboard").status_code == 200  # still signed in
    page = client.get("/dashboard").get_data(as_text=True)
    token = page.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/dashboard/logout", data={"csrf": token}).status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_the_role_is_read_again_on_every_request(
    world: tuple[Flask, Database], db_url: str
) -> None:
    app, database = world
    listed = signed_in(app, database, LISTED)
    admin = signed_in(app, database, MANAGER)
    assert listed.get("/dashboard/network").status_code == 200
    settings = app.extensions["missionbot"].settings
    settings.missionbot_admins = frozenset()
    assert listed.get("/dashboard/network").status_code == 403
    with database.transaction() as session:
        session.execute(
            update(PersonRow).where(PersonRow.user_id == MANAGER).values(is_admin=False)
        )
    assert admin.get("/dashboard/health").status_code == 403
    with database.transaction() as session:
        session.execute(update(PersonRow).where(PersonRow.user_id == MANAGER).values(deleted=True))
    refused = admin.get("/dashboard")
    assert refused.status_code == 403
    assert b"deactivated" in refused.data
    assert admin.get("/dashboard").status_code == 302  # and the session has ended
    gone = app.test_client().get(link(database, GONE))
    assert gone.status_code == 403
    assert b"deactivated" in gone.data


def test_a_session_ends_after_twelve_hours(world: tuple[Flask, Database], clock: Clock) -> None:
    app, database = world
    client = signed_in(app, database, ANA)
    clock.now = NOW + dt.timedelta(hours=11, minutes=59)
    assert client.get("/dashboard").status_code == 200
    clock.now = NOW + dt.timedelta(hours=12, minutes=1)
    assert client.get("/dashboard").status_code == 302


def test_slack_id_token_claims_are_all_checked() -> None:
    good = {
        "iss": ISSUER,
        "aud": "123.456",
        "exp": NOW.timestamp() + 60,
        "nonce": "n1",
        "https://slack.com/team_id": TEAM,
        "https://slack.com/user_id": ANA,
    }

    def check(**changes: Any) -> Any:
        return check_claims(
            {**good, **changes}, client_id="123.456", nonce="n1", teams=[TEAM], now=NOW
        )

    assert check().user_id == ANA
    for bad in (
        {"iss": "https://evil.example"},
        {"aud": "999.999"},
        {"exp": NOW.timestamp() - 1},
        {"nonce": "n2"},
        {"https://slack.com/team_id": OTHER_TEAM},
        {"https://slack.com/user_id": None},
    ):
        with pytest.raises(OidcRefused):
            check(**bad)
    assert (
        check(
            **{"https://slack.com/team_id": "TGRID0001", "https://slack.com/enterprise_id": TEAM}
        ).team_id
        == "TGRID0001"
    )


def test_kudos_dashboard_answers_with_a_link_that_signs_in_through_the_bot(bot: Bot) -> None:
    reply = bot.command("/kudos", "dashboard")
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    url = reply.text.split("<", 1)[1].split("|", 1)[0]
    public = bot.runtime.settings.missionbot_public_url
    assert url.startswith(public + "/dashboard/login/")
    opened = bot.get(url.removeprefix(public))  # served beside /slack/events, on one port
    assert opened.status == 302
    assert opened.headers["Location"].endswith("/dashboard/")
    assert "HttpOnly" in opened.headers["Set-Cookie"]
    assert bot.get(url.removeprefix(public)).status == 400  # once only
    assert bot.get("/healthz").status == 200  # the Slack side is still there
    assert "dashboard" in bot.command("/kudos", "help").text


def _id_token(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


def test_sign_in_with_slack_checks_state_nonce_and_team(
    db_url: str, slack: FakeSlack, clock: Clock
) -> None:
    database = Database(db_url)
    populate(database)
    settings = dashboard_settings(
        db_url, slack_client_id="123.456", slack_client_secret="shh", slack_api_url=slack.api_url
    )
    app = dashboard(settings, database, clock)
    answers: list[dict[str, Any]] = []
    slack._api_openid_connect_token = lambda _params: answers.pop(0)  # type: ignore[attr-defined]

    def start(client: Any) -> dict[str, str]:
        reply = client.get("/dashboard/login/slack")
        assert reply.status_code == 302
        query = dict(parse_qsl(urlsplit(reply.headers["Location"]).query))
        assert reply.headers["Location"].startswith("https://slack.com/openid/connect/authorize?")
        assert query["redirect_uri"] == "http://dashboard.test/dashboard/login/slack/callback"
        return query

    def token(nonce: str, team: str = TEAM) -> dict[str, Any]:
        claims = {
            "iss": "https://slack.com",
            "aud": "123.456",
            "exp": NOW.timestamp() + 300,
            "nonce": nonce,
            "https://slack.com/team_id": team,
            "https://slack.com/user_id": ANA,
        }
        return {"ok": True, "id_token": _id_token(claims)}

    try:
        browser = app.test_client()
        assert b"Sign in with Slack" in browser.get("/dashboard/signin").data
        query = start(browser)
        callback = f"/dashboard/login/slack/callback?code=c1&state={query['state']}"
        stranger = app.test_client()  # the state belongs to the browser that started
        assert stranger.get(callback).status_code == 400
        answers.append(token(query["nonce"]))
        assert browser.get(callback).status_code == 302
        assert browser.get("/dashboard").status_code == 200
        assert browser.get(callback).status_code == 400  # the state is used once
        query = start(browser)
        answers.append(token("another-nonce"))
        callback = f"/dashboard/login/slack/callback?code=c2&state={query['state']}"
        assert browser.get(callback).status_code == 403
        assert browser.get("/dashboard").status_code == 302
        query = start(browser)
        answers.append(token(query["nonce"], team="TFOREIGN1"))
        callback = f"/dashboard/login/slack/callback?code=c3&state={query['state']}"
        refused = browser.get(callback)
        assert refused.status_code == 403
        assert b"doesn&#39;t serve" in refused.data
    finally:
        database.dispose()


def test_periods_are_the_viewers_calendar_across_dst(world: tuple[Flask, Database]) -> None:
    """03:30 UTC on 1 November 2026 is Sunday 1 November in Berlin but still Saturday 31 October
    in New York (EDT ends at 06:00 UTC that day): ANA (Berlin) counts it in November, CARL
    (New York) in October."""
    app, database = world
    plain = principle_ids(database, TEAM)["plain-words"]
    edge = dt.datetime(2026, 11, 1, 3, 30, tzinfo=dt.UTC)
    seed(database, [kudos_row(TEAM, ANA, CARL, plain, edge, message="at the edge")])

    def kudos(viewer: str, period: str) -> int:
        client = signed_in(app, database, viewer)
        reply = client.get(f"/dashboard?period={period}&format=json")
        assert reply.json["period"]["timezone"] in ("Europe/Berlin", "America/New_York")
        return int(reply.json["tables"]["summary"][0]["This period"])

    assert (kudos(ANA, "2026-11"), kudos(ANA, "2026-10")) == (6, 2)
    assert (kudos(CARL, "2026-11"), kudos(CARL, "2026-10")) == (5, 3)
    custom = "custom&from=2026-11-01&to=2026-11-01"
    assert (kudos(ANA, custom), kudos(CARL, custom)) == (1, 0)


def test_an_org_installs_user_groups_are_listed_workspace_by_workspace(slack: FakeSlack) -> None:
    """An org token must name the workspace (`team_id`) in usergroups.list; the dashboard of
    an org-wide install (records under its enterprise) lists each workspace's groups once."""
    slack.auth_test = {"team_id": None, "enterprise_id": "E111", "is_enterprise_install": True}
    slack.org_teams = ["T111", "T222"]
    slack.usergroups = {"S111": ["W333", "W444"]}
    groups = SlackGroups(WebClient(token="xoxb-test-token", base_url=slack.api_url))
    [found] = groups.groups("E111")
    assert (found.id, found.members) == ("S111", frozenset({"W333", "W444"}))
    asked = [call["team_id"] for call in slack.calls("usergroups.list")]
    assert asked == ["T111", "T222"]


def test_an_org_tokens_user_group_call_without_a_workspace_is_refused_as_slack_does(
    slack: FakeSlack,
) -> None:
    slack.auth_test = {"team_id": None, "enterprise_id": "E111", "is_enterprise_install": True}
    slack.usergroups = {"S111": ["W333"]}
    client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
    for call in (
        lambda: client.usergroups_list(include_users=True),
        lambda: client.usergroups_users_list(usergroup="S111"),
    ):
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response["error"] == "missing_argument"
    assert client.usergroups_users_list(usergroup="S111", team_id="T111")["users"] == ["W333"]
