"""`/kudos leaderboard|principles|export`, the App Home and the export button, over signed HTTP;
the weekly digest with time travel; and the `missionbot leaderboard|export` commands."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from slack_sdk.models.views import View

from bot.blocks.home import HomeContent, home_view
from bot.blocks.ids import GIVE_KUDOS, Action, Event
from bot.cli import main
from bot.daily.schedule import WEEKDAYS, ScheduleRequest
from bot.daily.subscriptions import subscribe
from bot.mission.service import Catalog, PrincipleInfo
from bot.reports.leaderboard import PrincipleCount, PrincipleReport
from bot.reports.periods import parse_period
from bot.reports.scope import report_scope
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, Call, FakeSlack
from tests.support.reports import kudos_row, principle_ids, seed
from tests.support.slack_client import DEFAULT_USER

ADMIN, MANAGER, ANA = "UADMIN001", "UMANAGER1", DEFAULT_USER
NOW = dt.datetime(2026, 4, 20, 15, 0, tzinfo=dt.UTC)  # a Monday afternoon
# As the example mission file names them.
PLAIN = ":speech_balloon: Say it in plain words"
FIX = ":wrench: Fix the cause, then the symptom"


def synced(bot: Bot) -> dict[str, int]:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    return principle_ids(bot.database, TEAM_ID)


def seed_april(bot: Bot) -> list[dict[str, Any]]:
    """Kudos in April 2026: UBEN 3, UCARL 2, UDANA 2, ANA 1, plus one withdrawn for UEVE."""
    pids = synced(bot)
    at = dt.datetime(2026, 4, 10, 12, tzinfo=dt.UTC)
    plain, fix = pids["plain-words"], pids["fix-the-cause"]
    rows = [
        kudos_row(TEAM_ID, "UGIVER1", "UBEN0002", plain, at, message="clear notice"),
        kudos_row(TEAM_ID, "UGIVER1", "UBEN0002", fix, at, message="root cause"),
        kudos_row(TEAM_ID, "UGIVER2", "UBEN0002", plain, at, message="=1+1"),
        kudos_row(TEAM_ID, "UGIVER2", "UCARL003", plain, at),
        kudos_row(TEAM_ID, "UGIVER1", "UCARL003", plain, at),
        kudos_row(TEAM_ID, "UGIVER1", "UDANA004", fix, at),
        kudos_row(TEAM_ID, "UGIVER2", "UDANA004", fix, at),
        kudos_row(TEAM_ID, "UGIVER2", ANA, fix, at),
        kudos_row(TEAM_ID, "UGIVER2", "UEVE0005", fix, at, withdrawn=True),
    ]
    seed(bot.database, rows)
    return rows


@pytest.fixture
def clock_at_now() -> Any:
    with time_machine.travel(NOW, tick=True):
        yield


# -- /kudos leaderboard ----------------------------------------------------------------------


@pytest.mark.usefixtures("clock_at_now")
def test_leaderboard_ranks_ties_alike_and_shows_the_split(bot: Bot) -> None:
    seed_april(bot)
    reply = bot.command("/kudos", "leaderboard")
    assert reply.json["response_type"] == "ephemeral"
    text = reply.text
    assert "Top receivers — April 2026" in text
    assert "` 1.` <@UBEN0002> — 3 kudos" in text
    assert "` 2.` <@UCARL003> — 2 kudos" in text
    assert "` 2.` <@UDANA004> — 2 kudos" in text
    assert "` 4.` <@UANA0001> — 1 kudos" in text
    assert "UEVE0005" not in text  # withdrawn
    assert f"{PLAIN} 2, {FIX} 1" in text
    assert "8 kudos received by 4 people" in text


@pytest.mark.usefixtures("clock_at_now")
def test_leaderboard_of_givers_for_one_principle(bot: Bot) -> None:
    seed_april(bot)
    text = bot.command("/kudos", "leaderboard givers #fix-the-cause april 2026-04").text
    assert "I don't understand `april`" in text
    text = bot.command("/kudos", "leaderboard givers #fix-the-cause 2026-04").text
    assert "Top givers for" in text
    assert "<@UGIVER2> — 2 kudos" in text
    assert "<@UGIVER1> — 2 kudos" in text


def test_a_kudos_at_2330_new_york_time_is_in_march_for_new_york_and_april_for_berlin(
    bot: Bot, slack: FakeSlack
) -> None:
    pids = synced(bot)
    late = dt.datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    seed(bot.database, [kudos_row(TEAM_ID, "UGIVER1", "UDANA004", pids["plain-words"], late)])
    slack.add_user("UNEWYORK1", tz="America/New_York")
    slack.add_user("UBERLIN01", tz="Europe/Berlin")
    assert "<@UDANA004>" in bot.command("/kudos", "leaderboard 2026-03", user="UNEWYORK1").text
    assert "<@UDANA004>" not in bot.command("/kudos", "leaderboard 2026-04", user="UNEWYORK1").text
    assert "<@UDANA004>" not in bot.command("/kudos", "leaderboard 2026-03", user="UBERLIN01").text
    assert "<@UDANA004>" in bot.command("/kudos", "leaderboard 2026-04", user="UBERLIN01").text


@pytest.mark.usefixtures("clock_at_now")
def test_the_caller_outside_the_top_sees_their_own_rank(bot: Bot) -> None:
    pids = synced(bot)
    at = dt.datetime(2026, 4, 2, tzinfo=dt.UTC)
    people = [f"UTOP{n:04d}" for n in range(11)]
    rows = [
        kudos_row(TEAM_ID, "UGIVER1", u, pids["plain-words"], at)
        for i, u in enumerate(people)
        for _ in range(15 - i)
    ]
    rows.append(kudos_row(TEAM_ID, "UGIVER1", ANA, pids["plain-words"], at))
    seed(bot.database, rows)
    text = bot.command("/kudos", "leaderboard").text
    assert "You are `#12` of 12 with 1 kudos received." in text
    assert "<@UTOP0010>" not in text  # rank 11


@pytest.mark.usefixtures("clock_at_now")
def test_a_bad_period_gets_a_friendly_answer(bot: Bot) -> None:
    reply = bot.command("/kudos", "leaderboard 2026-13")
    assert reply.status == 200
    assert "isn't a period I know" in reply.text
    assert "`2026-Q1`" in reply.text


@pytest.mark.usefixtures("clock_at_now")
def test_sharing_a_leaderboard_is_for_admins_only(
    bot: Bot, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_april(bot)
    refused = bot.command("/kudos", "leaderboard share")
    assert refused.json["response_type"] == "ephemeral"
    assert "Only workspace admins" in refused.text
    assert slack.calls("chat.postMessage") == []
    slack.add_user(ADMIN, is_admin=True)
    shared = bot.command("/kudos", "leaderboard share", user=ADMIN)
    assert shared.json["response_type"] == "ephemeral"
    assert "Sharing the leaderboard" in shared.text
    [post] = slack.wait_for("chat.postMessage")
    assert f"shared by <@{ADMIN}>" in json.dumps(post.params)
    monkeypatch.setattr(bot.runtime.settings, "missionbot_admins", frozenset({MANAGER}))
    assert bot.command("/kudos", "share leaderboard", user=MANAGER).status == 200
    assert bot.command("/kudos", "leaderboard share", user=MANAGER).json["response_type"] == (
        "ephemeral"
    )
    assert len(slack.wait_for("chat.postMessage", count=2)) == 2


# -- /kudos principles -----------------------------------------------------------------------


@pytest.mark.usefixtures("clock_at_now")
def test_principles_report_counts_changes_and_quiet_principles(bot: Bot) -> None:
    rows = seed_april(bot)
    pids = synced(bot)
    march = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    seed(bot.database, [kudos_row(TEAM_ID, "UGIVER1", "UBEN0002", pids["plain-words"], march)])
    text = bot.command("/kudos", "principles").text
    counted = Counter(r["principle_id"] for r in rows if not r["withdrawn_at"])
    assert f"{PLAIN} — *{counted[pids['plain-words']]}* (+3)" in text
    assert f"{FIX} — *{counted[pids['fix-the-cause']]}* (+4)" in text
    assert "*Quiet:* nobody was recognised for" in text
    assert "`#no-surprises`" in text
    assert "`#plain-words`" not in text.split("Quiet")[1]


# -- /kudos export ---------------------------------------------------------------------------


def test_export_is_refused_to_a_non_admin_and_nothing_is_sent(bot: Bot, slack: FakeSlack) -> None:
    reply = bot.command("/kudos", "export")
    assert "Only workspace admins and the bot's managers can export" in reply.text
    assert slack.calls("files.getUploadURLExternal") == []
    assert slack.calls("conversations.open") == []


PNG_SIGNATURE = b"\x89PNG"


def not_a_chart(slack: FakeSlack) -> Callable[[Call], bool]:
    def check(call: Call) -> bool:
        [file] = json.loads(call["files"])
        return not slack.uploads[file["id"]].startswith(PNG_SIGNATURE)

    return check


def uploaded_csv(slack: FakeSlack) -> list[dict[str, str]]:
    # The managers' Home may upload its chart (a PNG) in the same delivery: that one is not it.
    [complete] = slack.wait_for("files.completeUploadExternal", where=not_a_chart(slack))
    [file] = json.loads(complete["files"])
    return list(csv.DictReader(io.StringIO(slack.uploads[file["id"]].decode())))


@pytest.mark.usefixtures("clock_at_now")
def test_export_sends_the_admin_a_csv_in_a_dm(bot: Bot, slack: FakeSlack) -> None:
    rows = seed_april(bot)
    slack.add_user(ADMIN, is_owner=True)
    slack.add_user("UBEN0002", profile={"display_name": "ben", "real_name": "Ben Ng"})
    reply = bot.command("/kudos", "export 2026-04", user=ADMIN)
    assert "Preparing the kudos of April 2026" in reply.text
    read = uploaded_csv(slack)
    [opened] = slack.calls("conversations.open")
    assert opened["users"] == ADMIN
    [complete] = slack.calls("files.completeUploadExternal")
    assert complete["channel_id"] == "D" + ADMIN
    counted = [r for r in rows if not r["withdrawn_at"]]
    assert len(read) == len(counted)
    assert Counter(r["receiver_id"] for r in read) == Counter(r["receiver_id"] for r in counted)
    assert {r["receiver_name"] for r in read if r["receiver_id"] == "UBEN0002"} == {"ben"}
    assert {r["principle_key"] for r in read} == {"plain-words", "fix-the-cause"}
    assert "'=1+1" in {r["message"] for r in read}
    confirmation = slack.wait_for("response_url")[-1]
    assert "I sent you the CSV file" in confirmation["text"]
    assert f"The kudos of April 2026: {len(counted)} rows." in confirmation["text"]


# -- the App Home ----------------------------------------------------------------------------


def published(slack: FakeSlack) -> dict[str, Any]:
    call = slack.wait_for("views.publish")[-1]
    view = call["view"]
    return json.loads(view) if isinstance(view, str) else view


def action_ids(view: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def assert_valid_home(view: dict[str, Any]) -> None:
    View(**view).validate_json()
    assert view["type"] == "home"
    assert 0 < len(view["blocks"]) <= 100
    for block in view["blocks"]:
        text = block.get("text") or {}
        assert len(text.get("text", "")) <= 3000


@pytest.mark.usefixtures("clock_at_now")
def test_the_home_tab_shows_today_my_month_and_the_top_5(bot: Bot, slack: FakeSlack) -> None:
    seed_april(bot)
    bot.event({"type": Event.APP_HOME_OPENED, "user": "UBEN0002", "tab": "home"})
    view = published(slack)
    assert_valid_home(view)
    texts = json.dumps(view, ensure_ascii=False)
    assert "Today's principle" in texts
    assert "Your kudos in April 2026* — 3 received, 0 given" in texts
    assert "Top 5 — April 2026" in texts
    assert action_ids(view) == [GIVE_KUDOS]
    assert Action.EXPORT_KUDOS not in texts


@pytest.mark.usefixtures("clock_at_now")
def test_admins_see_the_breakdown_and_can_export_from_home(bot: Bot, slack: FakeSlack) -> None:
    rows = seed_april(bot)
    slack.add_user(ADMIN, is_admin=True)
    bot.event({"type": Event.APP_HOME_OPENED, "user": ADMIN, "tab": "home"})
    view = published(slack)
    assert_valid_home(view)
    assert action_ids(view) == [GIVE_KUDOS, Action.EXPORT_KUDOS]
    assert "For admins: by principle" in json.dumps(view, ensure_ascii=False)
    bot.interaction(bot.home_button_payload(Action.EXPORT_KUDOS, user=ADMIN))
    assert len(uploaded_csv(slack)) == sum(1 for r in rows if not r["withdrawn_at"])


def test_the_export_button_is_refused_to_a_non_admin(bot: Bot, slack: FakeSlack) -> None:
    synced(bot)
    bot.interaction(bot.home_button_payload(Action.EXPORT_KUDOS, user=ANA))
    [dm] = slack.wait_for("chat.postMessage")
    assert dm["channel"] == ANA
    assert "Only workspace admins" in dm["text"]
    assert slack.calls("files.getUploadURLExternal") == []


@pytest.mark.parametrize("count", [40, 2000])
def test_the_home_view_stays_within_limits_with_many_long_principles(count: int) -> None:
    principles = tuple(
        PrincipleInfo(
            id=n,
            key=f"key-{n}",
            title="T" * 100,
            description="D" * 5000,
            category=f"Category {n}",
            emoji=":star:",
            number=n,
        )
        for n in range(1, count + 1)
    )
    catalog = Catalog(statement="S<&>" * 2000, company="C" * 200, principles=principles)
    month = parse_period("month", dt.date(2026, 4, 1))
    report = PrincipleReport(
        month, month.previous(), tuple(PrincipleCount(p, 0, 1) for p in principles), principles
    )
    view = home_view(HomeContent("UANA0001", catalog, principles[0], None, None, report))
    assert_valid_home(view)
    texts = json.dumps(view, ensure_ascii=False)
    assert ("More principles: `/mission` lists them all." in texts) is (count > 40)
    assert action_ids(view) == [GIVE_KUDOS, Action.EXPORT_KUDOS]


# -- the weekly digest -----------------------------------------------------------------------


def test_the_digest_goes_out_once_on_monday_morning_about_last_week(
    bot: Bot, slack: FakeSlack
) -> None:
    pids = synced(bot)
    zone = ZoneInfo("Asia/Kolkata")
    with bot.database.transaction() as session:
        subscribe(
            session=session,
            team_id=TEAM_ID,
            channel_id="CDIGEST01",
            user_id=ANA,
            request=ScheduleRequest("09:00", WEEKDAYS[1:5], "Asia/Kolkata", digest=True),
            default_timezone=None,
            now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    last_week = dt.datetime(2026, 4, 15, 10, tzinfo=zone)  # Wednesday before
    too_old = dt.datetime(2026, 4, 12, 23, 0, tzinfo=zone)  # Sunday two weeks before
    seed(
        bot.database,
        [
            kudos_row(TEAM_ID, "UGIVER1", "UBEN0002", pids["plain-words"], last_week, message="a"),
            kudos_row(TEAM_ID, "UGIVER1", "UDANA004", pids["plain-words"], last_week, message="b"),
            kudos_row(
                TEAM_ID, "UGIVER2", "UCARL003", pids["fix-the-cause"], last_week, message="long one"
            ),
            kudos_row(TEAM_ID, "UGIVER2", "UCARL003", pids["fix-the-cause"], too_old),
        ],
    )
    scheduler = bot.runtime.scheduler
    with time_machine.travel(dt.datetime(2026, 4, 20, 8, 59, tzinfo=zone)):
        assert scheduler.run_due() == []
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, 0, tzinfo=zone)):
        [result] = scheduler.settle(scheduler.run_due())
        assert scheduler.run_due() == []
        assert scheduler.catch_up() == []
    with time_machine.travel(dt.datetime(2026, 4, 21, 9, 5, tzinfo=zone)):
        assert [r.kind for r in scheduler.settle(scheduler.run_due())] == ["daily"]
    assert (result.kind, result.local_date, result.outcome) == (
        "digest",
        dt.date(2026, 4, 20),
        "sent",
    )
    digests = [c for c in slack.calls("chat.postMessage") if "Last week in kudos" in c["text"]]
    assert len(digests) == 1
    text = json.dumps(digests[0].params, ensure_ascii=False)
    assert f"{PLAIN} — *2* (+2)" in text
    assert f"{FIX} — *1* (same as before)" in text
    assert "long one" in text
    assert "Quiet:" in text


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli_env(bot: Bot, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("DATABASE_URL", bot.database.url)


@pytest.mark.usefixtures("cli_env", "clock_at_now")
def test_cli_leaderboard_as_table_csv_and_json(
    bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_april(bot)
    assert main(["leaderboard", "--period", "2026-04"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "Top receivers, April 2026 (UTC): 8 kudos"
    assert table[1].split() == ["rank", "user_id", "name", "kudos", "principles"]
    assert table[3].split()[:4] == ["1", "UBEN0002", "uben0002", "3"]
    assert main(["leaderboard", "--period", "2026-04", "--format", "csv", "--givers"]) == 0
    read = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["rank"], r["user_id"], r["kudos"]) for r in read] == [
        ("1", "UGIVER1", "4"),
        ("1", "UGIVER2", "4"),
    ]
    assert main(["leaderboard", "--principle", "fix-the-cause", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["rank"], r["user_id"], r["kudos"]) for r in data["rows"]] == [
        (1, "UDANA004", 2),
        (2, "UANA0001", 1),
        (2, "UBEN0002", 1),
    ]


@pytest.mark.usefixtures("cli_env", "clock_at_now")
def test_cli_export_writes_csv_or_json(
    bot: Bot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = seed_april(bot)
    out = tmp_path / "kudos.csv"
    assert main(["export", "--period", "2026-04", "--output", str(out)]) == 0
    read = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert len(read) == sum(1 for r in rows if not r["withdrawn_at"])
    assert main(["export", "--period", "2026-03", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["export", "--period", "someday"]) == 2
    assert "--period" in capsys.readouterr().err
    assert main(["export", "--timezone", "Mars/Olympus"]) == 2


@pytest.mark.usefixtures("cli_env", "clock_at_now")
def test_cli_leaderboard_and_export_csv_write_names_a_spreadsheet_would_run_as_text(
    bot: Bot, slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_april(bot)
    formula = '=HYPERLINK("https://evil.example/x","Ben")'
    slack.add_user("UBEN0002", profile={"display_name": formula, "real_name": formula})
    slack.add_user("UCARL003", profile={"display_name": "-2+3", "real_name": "-2+3"})
    assert main(["leaderboard", "--period", "2026-04", "--format", "csv"]) == 0
    board = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    names = {r["user_id"]: r["name"] for r in board}
    assert names["UBEN0002"] == "'" + formula
    assert names["UCARL003"] == "'-2+3"
    assert {r["kudos"] for r in board} <= {"1", "2", "3"}  # counts stay numbers
    out = tmp_path / "kudos.csv"
    assert main(["export", "--period", "2026-04", "--output", str(out)]) == 0
    exported = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert {r["receiver_name"] for r in exported if r["receiver_id"] == "UBEN0002"} == {
        "'" + formula
    }
    assert "'=1+1" in {r["message"] for r in exported}


@pytest.mark.usefixtures("cli_env", "clock_at_now")
def test_the_cli_and_the_slack_command_count_the_same_2026_q1_for_berlin(
    bot: Bot, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    scope = report_scope(team_id=TEAM_ID, period="2026-Q1", where=berlin, now=NOW)
    start = dt.datetime(2026, 1, 1, tzinfo=berlin).astimezone(dt.UTC)
    end = dt.datetime(2026, 4, 1, tzinfo=berlin).astimezone(dt.UTC)  # summer time by then
    assert scope.bounds == (start, end)
    second = dt.timedelta(seconds=1)
    edges = {"UBEFORE01": start - second, "UFIRST001": start, "ULAST0001": end - second}
    edges["UAFTER001"] = end
    plain = synced(bot)["plain-words"]
    seed(bot.database, [kudos_row(TEAM_ID, "UGIVER1", u, plain, at) for u, at in edges.items()])
    slack.add_user("UBERLIN01", tz="Europe/Berlin")

    text = bot.command("/kudos", "leaderboard 2026-Q1", user="UBERLIN01").text
    in_slack = {user for user in edges if f"<@{user}>" in text}

    def in_cli(timezone: str) -> set[str]:
        argv = ["leaderboard", "--period", "2026-Q1", "--timezone", timezone, "--format", "json"]
        assert main(argv) == 0
        return {row["user_id"] for row in json.loads(capsys.readouterr().out)["rows"]}

    assert in_slack == in_cli("Europe/Berlin") == {"UFIRST001", "ULAST0001"}
    # The same words in another calendar are other instants: the zone is not ignored.
    assert in_cli("UTC") == {"ULAST0001", "UAFTER001"}
