"""The conversation in the pseudo-locale `en_XA` (MISSIONBOT_LANGUAGE=en_XA): every string the
bot writes on the translated surfaces comes out accented, so English left among it is a string
that never went through gettext; and a third longer, so a Block Kit limit only a longer
language would break is broken here."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
import time_machine

from bot.config import Settings, example_mission_file
from bot.daily.schedule import WEEKDAYS, ScheduleRequest
from bot.daily.subscriptions import subscribe
from bot.mission.file import load_mission_file
from tests.conftest import Bot
from tests.support.blocks import LIMITS, texts
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import outbox_settled
from tests.support.reports import kudos_row, principle_ids, seed

FRIEND = "UFRIEND01"
# What is not the bot's words: code, mentions, emoji, entities, the pseudo-locale's own text.
PROTECTED = re.compile(r"`[^`]*`|<[^<>]*>|:[a-z0-9_+\-']+:|&[a-z]+;|⟦[^⟧]*⟧|#[a-z0-9-]+")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"missionbot_language": "en_XA"})


def _content() -> list[str]:
    """The mission file's own words: content, shown as written in every language."""
    document = load_mission_file(example_mission_file())
    words = [document.company or "", document.statement]
    for principle in document.principles:
        words += [principle.title, principle.description or "", principle.category or ""]
    # An empty field ("" for a principle without a category) would make replace() space out
    # every letter, and then no English word could ever be found.
    return sorted((word for word in words if word), key=len, reverse=True)


def _english_left(text: str, typed: list[str]) -> list[str]:
    for known in [*_content(), *(word for word in typed if word)]:
        text = text.replace(known, " ")
    text = PROTECTED.sub(" ", text)
    return re.findall(r"\b[A-Za-z]{4,}\b", text)


def _check(blocks: list[dict[str, Any]], typed: list[str]) -> None:
    assert len(blocks) <= 50
    for kind, text in texts(blocks):
        assert len(text) <= LIMITS[kind], (kind, text[:80])
        assert not _english_left(text, typed), (kind, text[:200])


def test_the_translated_surfaces_have_no_english_left_and_keep_slacks_limits(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.add_user(FRIEND, profile={"display_name": "friend"})
    for text in ("", "1", "easy", "help", "today", "nonsense-principle"):
        _check(bot.command("/mission", text).json["blocks"], [text])
    words = "thanks for the call"
    for text in (
        f"<@{FRIEND}> #plain-words {words}",
        "me",
        "help",
        "undo",
        "undo",
        "settings",
        "settings language klingon",
    ):
        _check(bot.command("/kudos", text).json["blocks"], [words, "klingon"])
    bot.command("/kudos", f"<@{FRIEND}> #plain-words {words}")
    outbox_settled(bot.database)
    for call in slack.calls("chat.postMessage"):
        _check(call["blocks"], [words])


ADMIN = "UADMIN001"
# Babel's own words for dates in the pseudo-locale's formats (English, as en_GB writes them):
# CLDR's, not the bot's, so not in its catalogue.
CALENDAR = [
    *(day.strftime("%B") for day in (dt.date(2026, month, 1) for month in range(1, 13))),
    *(day.strftime("%A") for day in (dt.date(2026, 4, 13) + dt.timedelta(n) for n in range(7))),
]


def _view(call: Any) -> dict[str, Any]:
    view = call["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_reports_health_the_home_and_the_digest_have_no_english_left_and_keep_slacks_limits(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.add_user(ADMIN, is_owner=True)
    slack.add_user(FRIEND, profile={"display_name": "friend"})
    words = "thanks for the call"
    typed = [words, "thanks", "nonsense", *CALENDAR]
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC), tick=True):
        bot.runtime.mission.ensure_synced(bot.database, TEAM_ID)
        with bot.database.transaction() as session:
            subscribe(
                session=session,
                team_id=TEAM_ID,
                channel_id="CDIGEST01",
                user_id=ADMIN,
                request=ScheduleRequest("09:00", WEEKDAYS[:5], "UTC", digest=True),
                default_timezone=None,
                now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
        pids = principle_ids(bot.database, TEAM_ID)
        last_week = dt.datetime(2026, 4, 15, 12, tzinfo=dt.UTC)
        seed(
            bot.database,
            [kudos_row(TEAM_ID, ADMIN, FRIEND, pids["plain-words"], last_week)]
            + [kudos_row(TEAM_ID, "UX", "UY", pids["plain-words"], last_week) for _ in range(3)]
            + [kudos_row(TEAM_ID, "UY", "UX", pids["plain-words"], last_week) for _ in range(2)],
        )
        for text in (
            "leaderboard",
            "leaderboard givers",
            "leaderboard #plain-words",
            "leaderboard month weighted",
            "leaderboard givers weighted",
            "leaderboard nonsense",
            "leaderboard 2026-13",
            "principles",
            "principles week",
            "principles #plain-words",
            "export",
            "export #plain-words",
            "leaderboard share",
            "leaderboard weighted share",
            "health",
            "health #plain-words",
        ):
            _check(bot.command("/kudos", text, user=ADMIN).json["blocks"], typed)
        slack.wait_for("response_url")
        posted = bot.runtime.scheduler.settle(bot.runtime.scheduler.run_due(), timeout=20)
        assert "digest" in {result.kind for result in posted}
        assert bot.event(slack.home_opened(ADMIN)).status == 200
        [home] = slack.wait_for("views.publish", timeout=30)
        outbox_settled(bot.database)
    view = _view(home)
    assert len(view["blocks"]) <= 100
    for kind, text in texts(view["blocks"]):
        assert len(text) <= LIMITS[kind], (kind, text[:80])
        assert not _english_left(text, typed), (kind, text[:200])
    posts = slack.calls("chat.postMessage")
    assert {"CDIGEST01", "CGENERAL01"} <= {c["channel"] for c in posts}
    for call in posts:
        _check(call["blocks"], typed)
    replies = slack.calls("response_url")
    assert any("⇄" in json.dumps(c.params, ensure_ascii=False) for c in replies)  # health
    for call in replies:
        _check(call.params.get("blocks") or [], typed)
        assert not _english_left(call.params.get("text") or "", typed)
    for call in slack.calls("files.completeUploadExternal"):
        assert not _english_left(call.params.get("initial_comment") or "", typed)
    # A button or command the bot no longer has: the note is in the reader's language too.
    note = bot.command("/retired-command", user=ADMIN)
    _check(note.json["blocks"], ["retired", "command"])
