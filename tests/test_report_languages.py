"""Reports, promise health, the App Home and the digest in each shipped language (issue 24):
an answer only its reader sees is in their language; a leaderboard shared in a channel and the
weekly digest are in the workspace language, never the sharer's; each language's rendering
keeps Slack's limits; the Home is redrawn when its reader's language changes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine

from bot.blocks.common import period_label
from bot.blocks.kudos import kudos_corrected
from bot.daily.schedule import WEEKDAYS, ScheduleRequest
from bot.daily.subscriptions import subscribe
from bot.i18n import speech
from bot.kudos.checks import Correction, Verdict
from bot.kudos.service import WithdrawnKudos
from bot.mission.service import PrincipleInfo
from bot.reports.periods import PeriodKind, period_of
from bot.simulator.server import default_user
from tests.conftest import Bot
from tests.support.blocks import LIMITS, texts
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import outbox_settled
from tests.support.reports import kudos_row, principle_ids, seed

ADMIN = "UADMIN001"
EMMA = "UEMMA0001"
# A word of each surface's title in each language, to show it was translated.
BOARD = {
    "en": "Top receivers — ",
    "de": "Top-Empfangende — ",
    "fr": "Ceux qui reçoivent le plus — ",
    "es": "Quienes más reciben — ",
    "pt_BR": "Quem mais recebeu — ",
    "ja": "多く受け取った人 — ",
}
HEALTH = {
    "en": "Promise health — ",
    "de": "Versprechens-Check — ",
    "fr": "Santé de nos promesses — ",
    "es": "Salud de nuestras promesas — ",
    "pt_BR": "Saúde das nossas promessas — ",
    "ja": "約束の健全性 — ",
}
HOME = {
    "en": "`/kudos help` and `/mission help` show what else I can do.",
    "de": "`/kudos help` und `/mission help` zeigen, was ich sonst noch kann.",
    "fr": "`/kudos help` et `/mission help` montrent tout ce que je sais faire.",
    "es": "`/kudos help` y `/mission help` muestran qué más puedo hacer.",
    "pt_BR": "`/kudos help` e `/mission help` mostram o que mais eu sei fazer.",
    "ja": "ほかにできることは `/kudos help` と `/mission help` で確認できます。",
}
DIGEST = {
    "en": "Last week in kudos",
    "de": "Die Kudos der letzten Woche",
    "es": "Los kudos de la semana pasada",
}
LOCALES = {
    "en": "en-GB",
    "de": "de-DE",
    "fr": "fr-FR",
    "es": "es-ES",
    "pt_BR": "pt-BR",
    "ja": "ja-JP",
}


def within_limits(blocks: list[dict[str, Any]], most: int = 50) -> str:
    """The blocks' words, once each is checked against Slack's limits."""
    assert 0 < len(blocks) <= most
    for kind, text in texts(blocks):
        assert len(text) <= LIMITS[kind], (kind, text[:80])
    return json.dumps(blocks, ensure_ascii=False)


def april(bot: Bot) -> None:
    """Kudos in April 2026 between three people, two of them giving each other most."""
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    pid = principle_ids(bot.database, TEAM_ID)["plain-words"]
    at = dt.datetime(2026, 4, 8, 15, tzinfo=dt.UTC)
    rows = [kudos_row(TEAM_ID, "UX", "UY", pid, at) for _ in range(3)]
    rows += [kudos_row(TEAM_ID, "UY", "UX", pid, at) for _ in range(2)]
    rows += [kudos_row(TEAM_ID, ADMIN, "UX", pid, at)]
    seed(bot.database, rows)


@pytest.mark.parametrize("language", list(LOCALES))
def test_each_language_renders_the_reports_and_the_home_in_the_readers_words(
    bot: Bot, slack: FakeSlack, language: str
) -> None:
    slack.add_user(ADMIN, is_owner=True, locale=LOCALES[language])
    with time_machine.travel(dt.datetime(2026, 4, 20, 15, tzinfo=dt.UTC), tick=True):
        april(bot)
        month = "month 2026-04"
        board = bot.command("/kudos", f"leaderboard {month.split()[1]}", user=ADMIN).json
        assert BOARD[language] in within_limits(board["blocks"])
        for text in (
            "leaderboard 2026-04 givers",
            "leaderboard 2026-04 #plain-words",
            "leaderboard 2026-04 weighted",
            "principles 2026-04",
            "principles week",
        ):
            within_limits(bot.command("/kudos", text, user=ADMIN).json["blocks"])
        bot.command("/kudos", "health 2026-04", user=ADMIN)
        [report] = slack.wait_for("response_url")
        assert HEALTH[language] in within_limits(report["blocks"])
        assert bot.event(slack.home_opened(ADMIN)).status == 200
        [published] = slack.wait_for("views.publish", timeout=30)
    view = published["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert HOME[language] in within_limits(view["blocks"], most=100)
    assert view["private_metadata"].endswith(f":{language}")


def test_a_shared_leaderboard_is_in_the_workspace_language_not_the_sharers(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.add_user(ADMIN, is_owner=True, locale="de-DE")
    reply = bot.command("/kudos", "leaderboard share", user=ADMIN)
    assert "Ich teile die Rangliste jetzt in <#CGENERAL01>." in reply.text
    outbox_settled(bot.database)
    [shared] = [c for c in slack.calls("chat.postMessage") if c["channel"] == "CGENERAL01"]
    words = json.dumps(shared["blocks"], ensure_ascii=False)
    assert "Top receivers — " in words
    assert "Top-Empfangende" not in words
    assert "Top-Empfangende — " in bot.command("/kudos", "leaderboard", user=ADMIN).text
    bot.command("/kudos", "settings language fr", user=ADMIN)
    bot.command("/kudos", "leaderboard share", user=ADMIN)
    outbox_settled(bot.database)
    last = [c for c in slack.calls("chat.postMessage") if c["channel"] == "CGENERAL01"][-1]
    assert "Ceux qui reçoivent le plus — " in json.dumps(last["blocks"], ensure_ascii=False)


@pytest.mark.parametrize("language", list(DIGEST))
def test_the_digest_is_in_the_workspace_language_whoever_subscribed(
    bot: Bot, slack: FakeSlack, language: str
) -> None:
    slack.add_user(ADMIN, is_owner=True, locale="ja-JP")
    bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
    if language != "en":
        bot.command("/kudos", f"settings language {language}", user=ADMIN)
    pids = principle_ids(bot.database, TEAM_ID)
    with bot.database.transaction() as session:
        subscribe(
            session=session,
            team_id=TEAM_ID,
            channel_id="CDIGEST01",
            user_id=ADMIN,
            request=ScheduleRequest("09:00", WEEKDAYS[1:5], "UTC", digest=True),
            default_timezone=None,
            now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    noon = dt.datetime(2026, 4, 15, 12, tzinfo=dt.UTC)
    seed(bot.database, [kudos_row(TEAM_ID, "UG1", "UB", pids["plain-words"], noon)])
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC)):
        [result] = bot.runtime.scheduler.settle(bot.runtime.scheduler.run_due(), timeout=20)
    assert result.kind == "digest"
    [digest] = [c for c in slack.calls("chat.postMessage") if c["channel"] == "CDIGEST01"]
    assert DIGEST[language] in within_limits(digest["blocks"])
    assert "先週" not in json.dumps(digest["blocks"], ensure_ascii=False)


def test_the_home_is_redrawn_when_its_readers_language_changes(bot: Bot, slack: FakeSlack) -> None:
    slack.add_user(EMMA, locale="en-GB")
    assert bot.event(slack.home_opened(EMMA)).status == 200
    bot.deliver()
    [english] = [c for c in slack.calls("views.publish") if c["user_id"] == EMMA]
    assert HOME["en"] in json.dumps(english.params, ensure_ascii=False)
    # Unchanged: an opening costs nothing.
    assert bot.event(slack.home_opened(EMMA)).status == 200
    bot.deliver()
    assert len(slack.calls("views.publish")) == 1
    # Their Slack language changes (`user_change`): the next opening redraws the Home.
    changed = {**default_user(EMMA), "locale": "de-DE"}
    assert bot.event({"type": "user_change", "user": changed}).status == 200
    bot.deliver()
    assert bot.event(slack.home_opened(EMMA)).status == 200
    bot.deliver()
    german = [c for c in slack.calls("views.publish") if c["user_id"] == EMMA][-1]
    assert len(slack.calls("views.publish")) == 2
    assert HOME["de"] in json.dumps(german.params, ensure_ascii=False)
    # To a language the bot doesn't ship: theirs is then the workspace's, which managers set.
    slack.add_user(ADMIN, is_owner=True)
    unknown = {**default_user(EMMA), "locale": "xx-YY"}
    assert bot.event({"type": "user_change", "user": unknown}).status == 200
    bot.deliver()
    bot.command("/kudos", "settings language fr", user=ADMIN)
    assert bot.event(slack.home_opened(EMMA)).status == 200
    bot.deliver()
    french = [c for c in slack.calls("views.publish") if c["user_id"] == EMMA][-1]
    assert HOME["fr"] in json.dumps(french.params, ensure_ascii=False)


@pytest.mark.parametrize("language", [*LOCALES, "en_XA"])
def test_the_givers_correction_dm_is_in_their_language(language: str) -> None:
    principle = PrincipleInfo(
        id=1,
        key="plain-words",
        title="Say it in plain words",
        description=None,
        category=None,
        emoji=":speech_balloon:",
        number=1,
    )
    withdrawn = WithdrawnKudos(
        group_id="g1",
        giver_id="UGIVER001",
        receiver_ids=("UBOT00001",),
        principle=principle,
        message="thanks",
        channel_id="CGENERAL01",
        created_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        public_channel_id="CGENERAL01",
        public_message_ts=None,
    )
    for verdict in Verdict:
        correction = Correction(
            withdrawn=withdrawn, user_id="UBOT00001", verdict=verdict, tell_giver=True
        )
        message = kudos_corrected(correction, "CGENERAL01", speech(language))
        words = within_limits(message.blocks)
        assert "<#CGENERAL01>" in words
        if language not in ("en",):
            assert "Your kudos" not in words
            assert "posted through the command's reply" not in words


@pytest.mark.parametrize(
    ("language", "month", "week"),
    [
        ("en", "April 2026", "the week of Mon 13 Apr 2026"),
        ("de", "April 2026", "Woche vom 13. Apr. 2026"),
        ("fr", "avril 2026", "semaine du 13 avr. 2026"),
        ("ja", "2026年4月", "2026年4月13日の週"),
    ],
)
def test_a_period_is_named_in_the_readers_language(language: str, month: str, week: str) -> None:
    day = dt.date(2026, 4, 15)
    t = speech(language)
    assert period_label(period_of(PeriodKind.MONTH, day), t) == month
    assert period_label(period_of(PeriodKind.WEEK, day), t) == week
    # English is exactly the label the CLI and CSV use.
    assert period_label(period_of(PeriodKind.WEEK, day)) == period_of(PeriodKind.WEEK, day).label
