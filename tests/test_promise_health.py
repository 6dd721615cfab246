"""Promise health: the numbers against hand-computed fixtures (SQLite and PostgreSQL), the
chart (a PNG that decodes; its plotted data equals the CSV's), `/kudos health`, the managers'
App Home and `missionbot health`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib
import pytest
import time_machine
from PIL import Image

from bot.audience import QuoteScope
from bot.blocks.health import health_message
from bot.blocks.home import HomeContent, home_view
from bot.blocks.ids import Event
from bot.cli import main
from bot.daily.digest import weekly_digest
from bot.daily.schedule import WEEKDAYS, ScheduleRequest
from bot.daily.subscriptions import subscribe
from bot.db.engine import Database
from bot.db.models import WorkspaceSettings
from bot.i18n import ENGLISH, speech
from bot.mission.file import MissionDocument, PrincipleSpec
from bot.mission.service import Catalog, sync_mission
from bot.reports.chart import chart_data, chart_figure, chart_png, png_speech
from bot.reports.health import Health, Pair, Trend, pairs_among, promise_health, promise_trend
from bot.reports.health_tables import health_csv
from bot.reports.periods import PeriodKind, parse_period, period_of
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import outbox_settled
from tests.support.reports import (
    MISSION,
    WITHOUT_OLD_WAYS,
    kudos_row,
    principle_ids,
    seed,
    sync,
)

TEAM = "THEALTH01"
UTC = ZoneInfo("UTC")
TODAY = dt.date(2026, 4, 20)
# The 12 weeks of March 2026's trend: the week of Tuesday 31 March is the last.
WEEKS = [dt.date(2026, 1, 12) + dt.timedelta(weeks=n) for n in range(12)]


def noon(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 12, tzinfo=dt.UTC)


def march_fixture(database: Database) -> None:
    """plain-words: A→B x3, C→B, D→E (and one withdrawn); no-surprises: 11 kudos to seven
    receivers (3, 2, 2, 1, 1, 1, 1); fix-the-cause: one in February; old-ways: one in March,
    then retired; credit-generously: nothing."""
    sync(database, TEAM)
    ids = principle_ids(database, TEAM)
    plain, surprises, fix, old = (
        ids["plain-words"],
        ids["no-surprises"],
        ids["fix-the-cause"],
        ids["old-ways"],
    )
    rows = [
        kudos_row(TEAM, "UA", "UB", plain, noon(3, 2)),
        kudos_row(TEAM, "UA", "UB", plain, noon(3, 3)),
        kudos_row(TEAM, "UA", "UB", plain, noon(3, 16)),
        kudos_row(TEAM, "UC", "UB", plain, noon(3, 31)),
        kudos_row(TEAM, "UD", "UE", plain, noon(3, 10)),
        kudos_row(TEAM, "UD", "UE", plain, noon(3, 5), withdrawn=True),
        kudos_row(TEAM, "UA", "UB", plain, noon(4, 7)),  # after March and its 12 weeks
        kudos_row(TEAM, "UF", "UB", fix, noon(2, 10)),
        kudos_row(TEAM, "UF", "UB", old, noon(3, 5)),
    ]
    for receiver, count in zip(
        ["R1", "R2", "R3", "R4", "R5", "R6", "R7"], [3, 2, 2, 1, 1, 1, 1], strict=True
    ):
        rows += [
            kudos_row(TEAM, "UG", f"U{receiver}", surprises, noon(3, 20)) for _ in range(count)
        ]
    seed(database, rows)
    sync(database, TEAM, WITHOUT_OLD_WAYS)


def trend_of(database: Database, period: str, today: dt.date = TODAY, team: str = TEAM) -> Trend:
    found = parse_period(period, today)
    with database.reading() as session:
        return promise_trend(
            session=session,
            team_id=team,
            period=found,
            bounds=found.bounds(UTC),
            where=UTC,
            today=today,
        )


def health_of(database: Database, period: str, today: dt.date = TODAY, team: str = TEAM) -> Health:
    found = parse_period(period, today)
    with database.reading() as session:
        return promise_health(
            session=session,
            team_id=team,
            period=found,
            bounds=found.bounds(UTC),
            where=UTC,
            today=today,
        )


def by_key(health: Health) -> dict[str, Any]:
    return {row.principle.key: row for row in health.principles}


def test_health_counts_each_principle_against_hand_computed_numbers(database: Database) -> None:
    march_fixture(database)
    health = health_of(database, "2026-03")
    rows = by_key(health)
    plain, surprises = rows["plain-words"], rows["no-surprises"]
    assert (plain.kudos, plain.givers, plain.receivers, plain.top_share) == (5, 3, 2, 1.0)
    assert (surprises.kudos, surprises.givers, surprises.receivers) == (11, 1, 7)
    assert surprises.top_receivers == 3 + 2 + 2 + 1 + 1
    assert surprises.top_share == pytest.approx(9 / 11)
    assert rows["old-ways"].retired
    assert rows["old-ways"].kudos == 1
    assert [p.key for p in health.quiet] == ["fix-the-cause", "credit-generously"]
    # The whole workspace: 17 kudos, givers A C D G F, receivers B E R1..R7.
    assert (health.kudos, health.givers, health.receivers) == (17, 5, 9)
    # Top 5 receivers overall: B 4 + 1 (old-ways), R1 3, R2 2, R3 2, then one with 1.
    assert health.top_receivers == 5 + 3 + 2 + 2 + 1


def test_health_trend_is_the_12_weeks_ending_with_the_periods_last_week(
    database: Database,
) -> None:
    march_fixture(database)
    health = health_of(database, "2026-03")
    assert [week.start for week in health.weeks] == WEEKS
    rows = by_key(health)
    assert rows["plain-words"].weekly == (0, 0, 0, 0, 0, 0, 0, 2, 1, 1, 0, 1)
    assert rows["no-surprises"].weekly == (0,) * 9 + (11, 0, 0)
    assert rows["fix-the-cause"].weekly == (0, 0, 0, 0, 1) + (0,) * 7
    assert rows["old-ways"].weekly == (0,) * 7 + (1,) + (0,) * 4
    assert rows["credit-generously"].weekly == (0,) * 12


def test_a_running_period_trends_to_this_week(database: Database) -> None:
    march_fixture(database)
    health = health_of(database, "quarter", today=dt.date(2026, 4, 20))
    assert health.weeks[-1].start == dt.date(2026, 4, 20)
    assert by_key(health)["plain-words"].weekly[-3] == 1  # 7 April is in the week of 6 April


def test_reciprocal_pairs_are_those_who_give_each_other_most_of_their_kudos(
    database: Database,
) -> None:
    sync(database, TEAM)
    pid = principle_ids(database, TEAM)["plain-words"]
    at = noon(3, 9)

    def gave(giver: str, receiver: str, times: int) -> list[dict[str, Any]]:
        return [kudos_row(TEAM, giver, receiver, pid, at) for _ in range(times)]

    seed(
        database,
        # X gives 3 of 4 to Y, Y gives 2 of 2 to X: a pair (5 exchanged).
        gave("UX", "UY", 3)
        + gave("UY", "UX", 2)
        + gave("UX", "UZ", 1)
        # P and Q: one each way, too few to be a pattern.
        + gave("UP", "UQ", 1)
        + gave("UQ", "UP", 1)
        # M gives 3 of 3 to N, but N gives only 2 of 5 to M: not a pair.
        + gave("UM", "UN", 3)
        + gave("UN", "UM", 2)
        + gave("UN", "UO", 3)
        # Withdrawn kudos don't make a pair: S→T x3 counted, T→S x3 withdrawn.
        + gave("US", "UT", 3)
        + [kudos_row(TEAM, "UT", "US", pid, at, withdrawn=True) for _ in range(3)],
    )
    [pair] = health_of(database, "2026-03").pairs
    assert (pair.first, pair.second, pair.first_to_second, pair.second_to_first) == (
        "UX",
        "UY",
        3,
        2,
    )
    assert (pair.first_gave, pair.second_gave) == (4, 2)


def test_pairs_among_counts_already_read_finds_the_same_pairs_in_the_same_order() -> None:
    """The network's way (bot/insights/numbers.py): counts it read for its group table."""
    sent = [
        ("UX", "UY", 3),
        ("UY", "UX", 2),
        ("UX", "UZ", 1),
        ("UP", "UQ", 1),
        ("UQ", "UP", 1),
        ("UM", "UN", 3),
        ("UN", "UM", 2),
        ("UN", "UO", 3),
        ("UA", "UB", 2),
        ("UB", "UA", 3),
        ("UC", "UD", 4),
        ("UD", "UC", 1),
    ]
    assert pairs_among(sent) == [
        Pair("UA", "UB", 2, 3, 2, 3),
        Pair("UC", "UD", 4, 1, 4, 1),
        Pair("UX", "UY", 3, 2, 4, 2),
    ]
    assert pairs_among(sent, limit=1) == [Pair("UA", "UB", 2, 3, 2, 3)]


def test_empty_workspace_future_periods_and_before_the_first_kudos_read_as_nothing(
    database: Database,
) -> None:
    sync(database, TEAM)
    for period in ("month", "2026-12", "2020-01", "all"):
        health = health_of(database, period)
        assert health.kudos == 0
        assert health.top_share is None
        assert len(health.quiet) == 5  # every active principle
        assert all(row.weekly == (0,) * 12 for row in health.principles)
        assert health.pairs == ()
    assert health_of(database, "2026-12").weeks[-1].start == dt.date(2026, 4, 20)


def test_no_principles_at_all(database: Database) -> None:
    health = health_of(database, "month", team="TNOBODY01")
    assert health.principles == ()
    assert chart_data(health).empty


# -- the chart -------------------------------------------------------------------------------


def csv_weeks(health: Health) -> dict[str, list[int]]:
    """The CSV's week columns by principle title, parsed back from the text."""
    reader = csv.DictReader(io.StringIO(health_csv(health)))
    columns = [c for c in reader.fieldnames or [] if c.startswith("week_")]
    assert columns == [f"week_{week:%Y-%m-%d}" for week in WEEKS]
    return {row["title"]: [int(row[c]) for c in columns] for row in reader}


def plotted(health: Health) -> dict[str, list[int]]:
    """What the figure draws: its heatmap's rows by their tick labels."""
    figure = chart_figure(chart_data(health))
    [axes] = figure.axes
    [image] = axes.images
    labels = [label.get_text() for label in axes.get_yticklabels()]
    array = image.get_array()
    assert array is not None
    return {label: [int(v) for v in array[i]] for i, label in enumerate(labels)}


def test_the_chart_plots_exactly_the_csvs_weekly_numbers(database: Database) -> None:
    march_fixture(database)
    health = health_of(database, "2026-03")
    from_csv = csv_weeks(health)
    drawn = plotted(health)
    # Labels are "number. title" (a retired principle has no number).
    assert {re.sub(r"^[0-9]+\. ", "", label): row for label, row in drawn.items()} == from_csv
    png = chart_png(chart_data(health))
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    assert 600 <= image.width <= 2000
    assert 200 <= image.height <= 2000


def test_250_principles_chart_the_top_12_and_others(database: Database) -> None:
    team = "TMANY0001"
    keys = [f"p{n:03d}" for n in range(250)]
    with database.transaction() as session:
        document = MissionDocument(
            statement="Many.",
            principles=tuple(PrincipleSpec(key=k, title=f"Principle {k}") for k in keys),
        )
        sync_mission(session, team_id=team, document=document)
    ids = principle_ids(database, team)
    # Principle n gets n % 20 kudos in the week of 9 March.
    rows = [
        kudos_row(team, "UA", "UB", ids[key], noon(3, 10))
        for n, key in enumerate(keys)
        for _ in range(n % 20)
    ]
    seed(database, rows)
    health = health_of(database, "2026-03", team=team)
    data = chart_data(health)
    assert len(data.rows) == 13
    assert data.rows[-1] == "others (238 principles)"
    from_csv = csv_weeks(health)
    ranked = sorted(from_csv.items(), key=lambda item: (-sum(item[1]), item[0]))
    assert [list(v) for v in data.values[:12]] == [v for _title, v in ranked[:12]]
    assert list(data.values[12]) == [
        sum(col) for col in zip(*(v for _t, v in ranked[12:]), strict=True)
    ]
    assert sum(map(sum, data.values)) == len(rows)
    # The chart's own words in the reader's language; the numbers and principles the same.
    german = chart_data(health, t=speech("de"))
    assert german.rows[-1] == "weitere (238 Grundsätze)"
    assert german.title.startswith("Kudos pro Grundsatz und Woche, ")
    assert "9. März" in german.weeks
    assert (german.values, german.rows[:12]) == (data.values, data.rows[:12])
    # Japanese: DejaVu Sans has no glyphs for it, so the PNG is said in the workspace
    # language (English, else German here), not in boxes; the SVG's data stays Japanese.
    assert chart_data(health, t=png_speech(speech("ja"), lambda: ENGLISH)) == data
    assert chart_data(health, t=png_speech(speech("ja"), lambda: speech("de"))) == german
    japanese = chart_data(health, t=speech("ja"))
    assert japanese.title.startswith("行動指針ごと・週ごとの Kudos")
    assert japanese.language == "ja"
    assert japanese.values == data.values
    image = Image.open(io.BytesIO(chart_png(data)))
    assert image.height < 1200
    # The Slack report keeps within a message, the App Home within a view.
    message = health_message(health, chart_coming=True)
    assert len(message.blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message.blocks)
    assert "more principles: `missionbot health --format csv` has all" in json.dumps(message.blocks)
    # The Home draws health's trend (what the chart plots) and its pairs, not its people.
    trend = trend_of(database, "2026-03", team=team)
    assert chart_data(trend) == data
    content = HomeContent(
        "UADMIN001", Catalog("Many.", None, ()), None, None, None, None, trend, pairs=health.pairs
    )
    assert len(home_view(content)["blocks"]) <= 100


def test_one_principle_charts_one_row(database: Database) -> None:
    team = "TONE00001"
    with database.transaction() as session:
        document = MissionDocument(
            statement="One.", principles=(PrincipleSpec(key="only", title="The only one"),)
        )
        sync_mission(session, team_id=team, document=document)
    seed(database, [kudos_row(team, "UA", "UB", principle_ids(database, team)["only"], noon(3, 3))])
    health = health_of(database, "2026-03", team=team)
    assert plotted(health) == {"1. The only one": [0] * 7 + [1] + [0] * 4}


def test_no_kudos_draws_a_sentence_not_empty_axes(database: Database) -> None:
    sync(database, TEAM)
    data = chart_data(health_of(database, "month"))
    assert data.empty
    figure = chart_figure(data)
    assert figure.axes == []
    assert any("No kudos in these 12 weeks yet" in t.get_text() for t in figure.texts)
    assert Image.open(io.BytesIO(chart_png(data))).format == "PNG"
    # In the reader's language too; for a Japanese reader's PNG, the workspace's.
    german = chart_figure(chart_data(health_of(database, "month"), t=speech("de")))
    assert any("Noch keine Kudos in diesen 12 Wochen." in t.get_text() for t in german.texts)
    said = png_speech(speech("ja"), lambda: speech("fr"))
    french = chart_data(health_of(database, "month"), t=said)
    assert french.note.startswith("Pas encore de kudos ces 12 semaines.")
    assert chart_data(health_of(database, "month"), t=speech("ja")).note.startswith(
        "この12週間の Kudos はまだありません。"
    )


def test_the_chart_draws_with_its_own_font_and_literal_dollars(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    march_fixture(database)
    health = health_of(database, "2026-03")
    data = chart_data(health)
    tricky = data.__class__(
        rows=("Save $5 and $10 $\\frac{1}{2}$", *data.rows[1:]),
        weeks=data.weeks,
        values=data.values,
        title=data.title,
    )
    # A configuration naming a font this machine doesn't have changes nothing.
    with (
        matplotlib.rc_context({"font.family": ["No Such Font"]}),
        caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"),
    ):
        png = chart_png(tricky)
    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert "findfont" not in caplog.text


# -- Slack: /kudos health and the App Home ---------------------------------------------------

NOW = dt.datetime(2026, 4, 20, 15, 0, tzinfo=dt.UTC)
ADMIN = "UADMIN001"


@pytest.fixture
def at_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def april(bot: Bot) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    pid = principle_ids(bot.database, TEAM_ID)["plain-words"]
    at = dt.datetime(2026, 4, 8, 15, tzinfo=dt.UTC)
    rows = [kudos_row(TEAM_ID, "UX", "UY", pid, at) for _ in range(3)]
    rows += [kudos_row(TEAM_ID, "UY", "UX", pid, at) for _ in range(2)]
    rows += [kudos_row(TEAM_ID, "UX", "UZ", pid, at)]
    seed(bot.database, rows)


def uploaded_png(slack: FakeSlack) -> bytes:
    [complete] = slack.wait_for("files.completeUploadExternal")
    [file] = json.loads(complete["files"])
    return slack.uploads[file["id"]]


@pytest.mark.usefixtures("at_now")
def test_kudos_health_is_for_managers_only(bot: Bot, slack: FakeSlack) -> None:
    april(bot)
    reply = bot.command("/kudos", "health")
    assert "Only workspace admins and the bot's managers can see promise health" in reply.text
    assert "<@UX>" not in reply.text
    outbox_settled(bot.database)
    assert slack.calls("files.getUploadURLExternal") == []


@pytest.mark.usefixtures("at_now")
def test_kudos_health_answers_with_numbers_and_pairs_then_dms_the_chart(
    bot: Bot, slack: FakeSlack
) -> None:
    april(bot)
    slack.add_user(ADMIN, is_owner=True)
    reply = bot.command("/kudos", "health", user=ADMIN)
    assert reply.json["response_type"] == "ephemeral"
    assert "Counting promise health for April 2026" in reply.text
    [report] = slack.wait_for("response_url")
    assert report["response_type"] == "ephemeral"
    text = json.dumps(report.params, ensure_ascii=False)
    assert "Promise health — April 2026" in text
    assert "*6* kudos in April 2026: 2 people gave, 3 received" in text
    assert "Say it in plain words — *6* · 2 gave, 3 received · top 5 100%" in text
    assert "<@UX> ⇄ <@UY> — 3 and 2 kudos to each other, of 4 and 2 they gave" in text
    assert "*Quiet:*" in text
    png = uploaded_png(slack)
    assert Image.open(io.BytesIO(png)).format == "PNG"
    [opened] = slack.calls("conversations.open")
    assert opened["users"] == ADMIN


@pytest.mark.usefixtures("at_now")
def test_kudos_health_bad_period_is_refused_kindly(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user(ADMIN, is_owner=True)
    reply = bot.command("/kudos", "health 2026-13", user=ADMIN)
    assert "isn't a period I know" in reply.text
    outbox_settled(bot.database)
    assert slack.calls("files.getUploadURLExternal") == []


@pytest.mark.usefixtures("at_now")
def test_kudos_health_in_an_empty_workspace_sends_no_chart(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user(ADMIN, is_owner=True)
    bot.command("/kudos", "health quarter", user=ADMIN)
    [report] = slack.wait_for("response_url")
    text = json.dumps(report.params, ensure_ascii=False)
    assert "No kudos in 2026-Q2. Nothing in the last 12 weeks either" in text
    assert "chart is on its way" not in text
    outbox_settled(bot.database)
    assert slack.calls("files.getUploadURLExternal") == []


def published(call: dict[str, Any]) -> dict[str, Any]:
    view = call["view"]
    return json.loads(view) if isinstance(view, str) else view


def home_opened(user: str) -> dict[str, Any]:
    return {
        "type": Event.APP_HOME_OPENED,
        "user": user,
        "channel": "DHOME",
        "tab": "home",
        "event_ts": "1700000000.000100",
    }


@pytest.mark.usefixtures("at_now")
def test_managers_home_shows_the_chart_uploaded_once_a_week(bot: Bot, slack: FakeSlack) -> None:
    april(bot)
    slack.add_user(ADMIN, is_admin=True)
    assert bot.event(home_opened(ADMIN)).status == 200
    # The chart is uploaded first (drawing it takes seconds on a busy machine), and goes out
    # in the Home's one publish.
    [first] = slack.wait_for("views.publish", timeout=30)
    [complete] = slack.calls("files.completeUploadExternal")
    [file] = json.loads(complete["files"])
    images = [b for b in published(first)["blocks"] if b["type"] == "image"]
    assert images == [
        {
            "type": "image",
            "slack_file": {"id": file["id"]},
            "alt_text": "Kudos per principle per week over the last 12 weeks",
            "title": {"type": "plain_text", "text": "The last 12 weeks"},
        }
    ]
    assert "<@UX> ⇄ <@UY>" in json.dumps(published(first), ensure_ascii=False)
    # Opened again as Slack sends it, with that Home: current, nothing is called.
    assert bot.event(slack.home_opened(ADMIN)).status == 200
    bot.deliver()
    assert len(slack.calls("views.publish")) == 1
    # A Home Slack no longer has: published again, with the same file, no new upload.
    assert bot.event(home_opened(ADMIN)).status == 200
    second = slack.wait_for("views.publish", count=2)[1]
    assert file["id"] in json.dumps(published(second))
    assert len(slack.calls("files.completeUploadExternal")) == 1


@pytest.mark.usefixtures("at_now")
def test_a_non_managers_home_has_no_health_and_no_names(bot: Bot, slack: FakeSlack) -> None:
    april(bot)
    assert bot.event(home_opened("UWORKER01")).status == 200
    [view] = slack.wait_for("views.publish")
    shown = json.dumps(published(view), ensure_ascii=False)
    assert "promise health" not in shown
    assert "<@UX> ⇄" not in shown
    outbox_settled(bot.database)
    assert slack.calls("files.getUploadURLExternal") == []


# -- missionbot health ------------------------------------------------------------------------


def test_cli_health_writes_csv_json_and_png(
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    march_fixture(database)
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    args = ["health", "--period", "2026-03", "--team", TEAM]
    assert main([*args, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsysbinary.readouterr().out.decode())))
    plain = next(r for r in rows if r["key"] == "plain-words")
    assert (plain["kudos"], plain["givers"], plain["receivers"], plain["top5_share"]) == (
        "5",
        "3",
        "2",
        "1.0",
    )
    assert main([*args, "--format", "json"]) == 0
    report = json.loads(capsysbinary.readouterr().out)
    assert report["kudos"] == 17
    assert report["quiet"] == ["fix-the-cause", "credit-generously"]
    assert main([*args, "--format", "png", "--output", "chart.png"]) == 0
    assert Image.open(tmp_path / "chart.png").format == "PNG"


def test_cli_health_png_is_in_the_workspace_language_or_english_without_its_glyphs(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    march_fixture(database)
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("MISSIONBOT_LANGUAGE", "fr")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    args = ["health", "--period", "2026-03", "--team", TEAM, "--format", "png", "--output"]
    health = health_of(database, "2026-03", today=dt.datetime.now(dt.UTC).date())
    drawn = {lang: chart_png(chart_data(health, t=speech(lang))) for lang in ("en", "fr", "de")}
    assert len(set(drawn.values())) == 3  # the words differ, so the pictures do
    # No workspace language chosen: MISSIONBOT_LANGUAGE's French.
    assert main([*args, "fr.png"]) == 0
    assert (tmp_path / "fr.png").read_bytes() == drawn["fr"]
    for chosen, expected in (("de", "de"), ("ja", "en")):  # Japanese: no glyphs, so English
        with database.transaction() as session:
            session.merge(WorkspaceSettings(team_id=TEAM, language=chosen, updated_at=NOW))
        assert main([*args, f"{chosen}.png"]) == 0
        assert (tmp_path / f"{chosen}.png").read_bytes() == drawn[expected], chosen


def test_cli_health_csv_writes_a_title_a_spreadsheet_would_run_as_text(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    formula = '=HYPERLINK("https://evil.example/x","Plain words")'
    hostile = MISSION.replace("title: Plain words", f"title: '{formula}'")
    hostile = hostile.replace("title: No surprises", "title: '@SUM(1+1)*cmd'")
    sync(database, TEAM, hostile)
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["health", "--period", "2026-03", "--team", TEAM, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsysbinary.readouterr().out.decode(), newline="")))
    titles = {r["key"]: r["title"] for r in rows}
    assert titles["plain-words"] == "'" + formula
    assert titles["no-surprises"] == "'@SUM(1+1)*cmd"
    assert titles["fix-the-cause"] == "Fix the cause"


# -- the weekly digest -------------------------------------------------------------------------


def test_the_digest_names_principles_gone_quiet_and_threads_the_chart(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    pids = principle_ids(bot.database, TEAM_ID)
    with bot.database.transaction() as session:
        subscribe(
            session=session,
            team_id=TEAM_ID,
            channel_id="CDIGEST01",
            user_id="UANA0001",
            request=ScheduleRequest("09:00", WEEKDAYS[1:5], "UTC", digest=True),
            default_timezone=None,
            now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    seed(
        bot.database,
        [
            # Last week (13-19 April): plain-words. Three weeks before: fix-the-cause, so it
            # is quiet last week but not gone quiet; every other principle is gone quiet.
            kudos_row(TEAM_ID, "UG1", "UB", pids["plain-words"], noon(4, 15)),
            kudos_row(TEAM_ID, "UG1", "UB", pids["plain-words"], noon(4, 16)),
            kudos_row(TEAM_ID, "UG2", "UC", pids["fix-the-cause"], noon(3, 25)),
        ],
    )
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC)):
        [result] = bot.runtime.scheduler.settle(bot.runtime.scheduler.run_due(), timeout=20)
    assert result.kind == "digest"
    [digest] = [c for c in slack.calls("chat.postMessage") if "Last week in kudos" in c["text"]]
    text = json.dumps(digest.params, ensure_ascii=False)
    assert "Quiet:* nobody was recognised for" in text
    assert "`#own-the-outcome` — _no kudos for four weeks_" in text
    assert "`#fix-the-cause`\\n" in text  # quiet last week, not for four weeks
    assert "#plain-words" not in text.split("Quiet:")[1]
    [complete] = slack.wait_for("files.completeUploadExternal")
    assert complete["thread_ts"] == result.message_ts
    assert complete["channel_id"] == "CDIGEST01"
    [file] = json.loads(complete["files"])
    assert Image.open(io.BytesIO(slack.uploads[file["id"]])).format == "PNG"


def test_the_digests_trend_is_healths_principles_and_weeks_for_its_week(
    database: Database,
) -> None:
    """The digest reads health's principles and 12 weeks without its people and pairs (it shows
    neither): the same rows, a retired one among them, as the whole report of the week."""
    march_fixture(database)
    day = dt.date(2026, 3, 9)  # the digest of 2-8 March, in which old-ways had its kudos
    week = period_of(PeriodKind.WEEK, day).previous()
    assert week is not None
    with database.reading() as session:
        made = weekly_digest(
            session=session, team_id=TEAM, day=day, zone=UTC, scope=QuoteScope(channel_id="C1")
        )
        health = promise_health(
            session=session,
            team_id=TEAM,
            period=week,
            bounds=week.bounds(UTC),
            where=UTC,
            today=day,
        )
    assert made.trend is not None
    assert made.trend.weeks == health.weeks
    assert made.trend.quiet == health.quiet
    assert made.trend.kudos == health.kudos == 3  # plain-words 2, old-ways 1
    assert [(p.principle, p.kudos, p.weekly, p.retired) for p in made.trend.principles] == [
        (p.principle, p.kudos, p.weekly, p.retired) for p in health.principles
    ]
    assert by_key(health)["old-ways"].retired
    assert chart_data(made.trend) == chart_data(health)


def test_a_digest_with_no_kudos_in_12_weeks_sends_no_chart(bot: Bot, slack: FakeSlack) -> None:
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    with bot.database.transaction() as session:
        subscribe(
            session=session,
            team_id=TEAM_ID,
            channel_id="CDIGEST01",
            user_id="UANA0001",
            request=ScheduleRequest("09:00", WEEKDAYS[1:5], "UTC", digest=True),
            default_timezone=None,
            now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC)):
        [result] = bot.runtime.scheduler.settle(bot.runtime.scheduler.run_due(), timeout=20)
    assert result.outcome == "sent"
    outbox_settled(bot.database)
    assert slack.calls("files.getUploadURLExternal") == []


@pytest.mark.usefixtures("at_now")
def test_three_home_openings_at_once_upload_the_chart_once_and_publish_once(
    bot: Bot, slack: FakeSlack
) -> None:
    april(bot)
    slack.add_user(ADMIN, is_admin=True)
    barrier = threading.Barrier(3)

    def open_home(n: int) -> None:
        barrier.wait()
        assert bot.event(home_opened(ADMIN), event_id=f"EvHOMEAT{n}").status == 200

    threads = [threading.Thread(target=open_home, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One publish queued for the three (never two for one person), with the chart in it.
    [view] = slack.wait_for("views.publish", timeout=30)
    outbox_settled(bot.database)
    assert len(slack.calls("views.publish")) == 1
    assert "slack_file" in json.dumps(published(view))
    assert len(slack.calls("files.completeUploadExternal")) == 1


@pytest.mark.usefixtures("at_now")
def test_a_redelivered_home_opening_publishes_nothing_more(bot: Bot, slack: FakeSlack) -> None:
    """A manager's Home is published once by one delivery, chart included; Slack's retries of
    that delivery publish nothing, on either database."""
    april(bot)
    slack.add_user(ADMIN, is_admin=True)
    assert bot.event(home_opened(ADMIN), event_id="Ev0HOMEONCE").status == 200
    slack.wait_for("views.publish", timeout=30)
    for retry in ("1", "2"):
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        assert bot.event(home_opened(ADMIN), event_id="Ev0HOMEONCE", headers=headers).status == 200
    outbox_settled(bot.database)
    assert bot.event(home_opened("UWORKER01"), event_id="Ev0HOMEMARK").status == 200
    slack.wait_for("views.publish", count=2)
    assert [c["user_id"] for c in slack.calls("views.publish")] == [ADMIN, "UWORKER01"]
