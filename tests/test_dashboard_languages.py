"""The dashboard in every language, on SQLite and PostgreSQL: each viewer reads it in their Slack
locale (else the workspace's language), every page answers with `<html lang>` right and its
words translated; in the pseudo-locale no English is left on any page, error page or the
sign-in page; charts speak the viewer's language; CSV headers and JSON keys stay English."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser

import pytest
from flask import Flask
from sqlalchemy import update

from bot.db.engine import Database
from bot.db.models import Person as PersonRow
from bot.db.models import WorkspaceSettings
from bot.i18n import SHIPPED_LANGUAGES, speech
from bot.mission.file import parse_mission
from tests.support.dashboard import (
    ANA,
    BEN,
    CARL,
    HOSTILE_NAME,
    MANAGER,
    NOW,
    TEAM,
    Clock,
    dashboard,
    dashboard_settings,
    populate,
    signed_in,
)
from tests.support.reports import MISSION, sync
from tests.support.statements import language_only, reads_language, statements_of

PAGES = [
    "/dashboard?period=2026-11",
    "/dashboard/principles?period=2026-11",
    "/dashboard/principles/plain-words?period=2026-11",
    "/dashboard/leaderboards?period=2026-11",
    "/dashboard/people",
    "/dashboard/network?period=2026-11",
    "/dashboard/health?period=2026-11",
    f"/dashboard/people/{ANA}?period=2026-11",
    f"/dashboard/people/{CARL}?period=2026-11",
    "/dashboard?period=week",
    "/dashboard?period=2026-Q4",
    "/dashboard?period=all",
    "/dashboard?period=custom&from=2026-11-01&to=2026-11-15",
]
LANG = {"en": "en", "de": "de", "fr": "fr", "es": "es", "pt_BR": "pt-BR", "ja": "ja"}


def _world(db_url: str, language: str = "en") -> tuple[Flask, Database]:
    database = Database(db_url)
    populate(database)
    settings = dashboard_settings(db_url, missionbot_language=language)
    return dashboard(settings, database, Clock()), database


@pytest.fixture
def world(db_url: str) -> Iterator[tuple[Flask, Database]]:
    app, database = _world(db_url)
    yield app, database
    database.dispose()


def _locale(database: Database, user_id: str, locale: str | None) -> None:
    with database.transaction() as session:
        session.execute(
            update(PersonRow)
            .where(PersonRow.team_id == TEAM, PersonRow.user_id == user_id)
            .values(locale=locale)
        )


class _Text(HTMLParser):
    """A page's words as a reader meets them: text, and the attributes read aloud."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("alt", "placeholder", "aria-label", "title"):
            if found.get(name):
                self.words.append(str(found[name]))
        if tag == "img" and str(found.get("src", "")).startswith("data:image/svg+xml;base64,"):
            self.images.append(str(found["src"]))

    def handle_data(self, data: str) -> None:
        self.words.append(data)


def _read(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def _svg(src: str) -> str:
    return base64.b64decode(src.split(",", 1)[1]).decode()


def _svg_text(svg: str) -> str:
    return " ".join(unescape(text) for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def test_each_language_renders_every_page_for_a_viewer_of_that_locale(
    world: tuple[Flask, Database],
) -> None:
    app, database = world
    for language in SHIPPED_LANGUAGES:
        _locale(database, MANAGER, language.replace("_", "-"))
        client = signed_in(app, database, MANAGER)
        t = speech(language)
        for page in PAGES:
            reply = client.get(page)
            assert reply.status_code == 200, (language, page, reply.data[:300])
            html = reply.get_data(as_text=True)
            assert f'<html lang="{LANG[language]}">' in html, (language, page)
            assert t.gettext("Overview") in html
            assert t.gettext("This page as JSON") in html


def test_a_german_viewer_reads_german_words_dates_numbers_and_charts(
    world: tuple[Flask, Database],
) -> None:
    app, database = world
    _locale(database, MANAGER, "de-DE")
    client = signed_in(app, database, MANAGER)
    overview = client.get("/dashboard?period=2026-11").get_data(as_text=True)
    assert "Übersicht" in overview
    assert "Dieser Zeitraum im Vergleich zum vorigen" in overview
    assert "November 2026" in overview  # the period, as Babel writes it in German
    assert "Abmelden" in overview
    assert "+150\xa0%" in overview  # German puts a space before the percent sign
    custom = client.get("/dashboard?period=custom&from=2026-11-01&to=2026-11-15")
    assert "01.11.2026 bis 15.11.2026" in custom.get_data(as_text=True)
    person = _read(client.get(f"/dashboard/people/{BEN}?period=2026-11").get_data(as_text=True))
    weekly = next(_svg(src) for src in person.images if "Bekommen" in _svg(src))
    assert "Vergeben" in weekly  # the legend
    assert "Nov." in weekly  # the weeks, as German abbreviates them
    assert "Received" not in weekly


def test_the_viewers_locale_wins_over_the_workspace_language_which_is_the_fallback(
    db_url: str,
) -> None:
    app, database = _world(db_url, "fr")
    try:
        _locale(database, CARL, "pt-BR")
        _locale(database, ANA, "xx-YY")  # a locale the bot doesn't ship: the workspace's
        carl = signed_in(app, database, CARL).get("/dashboard").get_data(as_text=True)
        ana = signed_in(app, database, ANA).get("/dashboard").get_data(as_text=True)
        assert '<html lang="pt-BR">' in carl
        assert "Visão geral" in carl
        assert '<html lang="fr">' in ana
        assert "Vue d'ensemble" in ana
        with database.transaction() as session:
            session.add(WorkspaceSettings(team_id=TEAM, language="es", updated_at=NOW))
        again = signed_in(app, database, ANA).get("/dashboard").get_data(as_text=True)
        assert '<html lang="es">' in again  # `/kudos settings language es` reaches the dashboard
        # Before sign-in, the bot's language.
        signin = app.test_client().get("/dashboard/signin").get_data(as_text=True)
        assert '<html lang="fr">' in signin
        assert "Se connecter au tableau de bord" in signin
    finally:
        database.dispose()


def test_error_pages_speak_the_viewers_language_and_json_errors_stay_english(
    world: tuple[Flask, Database],
) -> None:
    app, database = world
    _locale(database, CARL, "ja-JP")
    client = signed_in(app, database, CARL)
    refused = client.get("/dashboard/network")
    assert refused.status_code == 403
    assert "このページはボットのマネージャー" in refused.get_data(as_text=True)
    bad = client.get("/dashboard?period=custom&from=2026-11-10&to=2026-11-01")
    assert bad.status_code == 400
    assert "終了日が開始日より前になっています。" in bad.get_data(as_text=True)
    as_json = client.get("/dashboard?period=custom&from=2026-11-10&format=json&to=2026-11-01")
    assert as_json.json == {"error": "The last date comes before the first."}
    missing = client.get("/dashboard/nowhere")
    assert missing.status_code == 404
    assert "このアドレスにダッシュボードのページはありません。" in missing.get_data(as_text=True)


@pytest.mark.parametrize(
    "address",
    [
        "/dashboard?period=2026-11",
        "/dashboard/principles?period=2026-11",
        "/dashboard/leaderboards?period=2026-11",
        f"/dashboard/people/{BEN}?period=2026-11",
        "/dashboard/health?period=2026-11",
        "/dashboard/people",
    ],
)
def test_csv_headers_and_json_keys_stay_english_in_every_language(
    world: tuple[Flask, Database], address: str
) -> None:
    app, database = world
    shapes: dict[str, tuple[object, ...]] = {}
    for language in SHIPPED_LANGUAGES:
        _locale(database, MANAGER, language)
        client = signed_in(app, database, MANAGER)
        tables = client.get(
            f"{address}&format=json" if "?" in address else f"{address}?format=json"
        )
        csvs = []
        for name in tables.json["tables"]:
            joined = "&" if "?" in address else "?"
            reply = client.get(f"{address}{joined}format=csv&table={name}")
            csvs.append(next(csv.reader(io.StringIO(reply.get_data(as_text=True)))))
        shapes[language] = (tables.json, csvs)
    english = shapes["en"]
    assert all(shape == english for shape in shapes.values())
    assert "Measure" in str(english) or "Principle" in str(english) or "Person" in str(english)


# What is the workspace's content, not the bot's words: shown as written in every language.
def _content() -> list[str]:
    document = parse_mission(MISSION)
    words = [document.company or "", document.statement]
    for principle in document.principles:
        words += [principle.title, principle.description or "", principle.category or ""]
    # No empty string: replacing "" would put a space between every letter, hiding all words.
    return sorted((w for w in words if w), key=len, reverse=True)


CONTENT_WORDS = ["missionbot", "Mara Manager", "Lis Listed", HOSTILE_NAME, "Engineering", "Carl"]
CONTENT_WORDS += ["Operations", "PUBLIC-WORDS-ANA-BEN", "SECRET-ANA-BEN", "SECRET-BEN-CARL"]
CONTENT_WORDS += ["<script>alert(1)</script>", "public thanks to Ana", "public thanks to Ben"]
CONTENT_WORDS += ["october 2", "october"]
# Babel's month and weekday names (the pseudo-locale formats dates as British English does).
CALENDAR = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Sept)\b"
)


def _english_left(text: str) -> list[str]:
    for known in [*_content(), *CONTENT_WORDS]:
        text = text.replace(known, " ")
    text = re.sub(r"⟦[^⟧]*⟧", " ", text)
    text = CALENDAR.sub(" ", text)
    return re.findall(r"\b[A-Za-z]{4,}\b", text)


def test_the_pseudo_locale_leaves_no_english_on_any_page_chart_or_error(db_url: str) -> None:
    app, database = _world(db_url, "en_XA")
    try:
        signin = _read(app.test_client().get("/dashboard/signin").get_data(as_text=True))
        assert not _english_left(" ".join(signin.words)), signin.words
        manager = signed_in(app, database, MANAGER)
        carl = signed_in(app, database, CARL)
        replies = [manager.get(page) for page in PAGES]
        replies += [
            carl.get("/dashboard/network"),  # 403
            carl.get("/dashboard?period=nonsense"),  # 400
            carl.get("/dashboard?colour=red"),  # 400
            carl.get("/dashboard/nowhere"),  # 404
            carl.post("/dashboard/logout"),  # 400: no CSRF token
        ]
        for reply in replies:
            page = _read(reply.get_data(as_text=True))
            assert '<html lang="en-XA">' in reply.get_data(as_text=True)
            left = _english_left(" ".join(page.words))
            assert not left, (reply.request.full_path, left[:10])
            for image in page.images:
                shown = _svg_text(_svg(image))
                assert not _english_left(shown), (reply.request.full_path, shown[:200])
    finally:
        database.dispose()


def test_a_principles_translation_from_the_mission_file_shows_to_its_readers(
    world: tuple[Flask, Database],
) -> None:
    app, database = world
    german = "  - key: plain-words\n    title: Plain words\n    translations:\n"
    german += '      de: {title: Klartext, description: "Sag es so, dass man es versteht."}\n'
    sync(
        database,
        TEAM,
        MISSION.replace(
            '  - {key: plain-words, title: Plain words, emoji: ":speech_balloon:"}\n', german
        ),
    )
    _locale(database, MANAGER, "de")
    client = signed_in(app, database, MANAGER)
    page = client.get("/dashboard/principles/plain-words?period=2026-11").get_data(as_text=True)
    assert "<h1>Klartext</h1>" in page
    assert "Sag es so, dass man es versteht." in page
    listed = client.get("/dashboard/principles?period=2026-11").get_data(as_text=True)
    assert "1. Klartext" in listed
    as_json = client.get("/dashboard/principles?period=2026-11&format=json").json
    assert any(row["Principle"] == "1. Plain words" for row in as_json["tables"]["principles"])


def test_a_request_reads_the_viewers_language_in_no_statement_of_its_own(
    world: tuple[Flask, Database],
) -> None:
    app, database = world
    _locale(database, MANAGER, "de-DE")
    with database.transaction() as session:
        session.add(WorkspaceSettings(team_id=TEAM, language="fr", updated_at=NOW))
    client = signed_in(app, database, MANAGER)
    client.get("/dashboard?period=2026-11")  # a first request may fill caches: not counted
    replies = []
    sent = statements_of(
        database.engine, lambda: replies.append(client.get("/dashboard?period=2026-11"))
    )
    assert '<html lang="de">' in replies[0].get_data(as_text=True)
    # The count without the language: the same statements less any that only read it. The
    # viewer's row (`people.name`) is read on every request: the language rides with it.
    without_language = [s for s in sent if not language_only(s, along_with=("people.name",))]
    assert len(sent) == len(without_language), sent
    assert any(reads_language(s) for s in sent), sent
    # A viewer the directory doesn't hold reads the workspace's language in that one statement.
    with database.transaction() as session:
        session.execute(
            update(PersonRow)
            .where(PersonRow.team_id == TEAM, PersonRow.user_id == MANAGER)
            .values(user_id="UMOVED999")
        )
    unknown = client.get("/dashboard?period=2026-11").get_data(as_text=True)
    assert '<html lang="fr">' in unknown


def test_a_japanese_viewers_heatmap_is_in_japanese_the_browser_draws_its_text(
    world: tuple[Flask, Database],
) -> None:
    app, database = world
    _locale(database, MANAGER, "ja-JP")
    client = signed_in(app, database, MANAGER)
    page = _read(client.get("/dashboard/health?period=2026-11").get_data(as_text=True))
    said = [_svg_text(_svg(src)) for src in page.images]
    # The same words as chart_data says them for Slack, in Japanese: the SVG keeps them as
    # text (no glyphs needed on the server), unlike the PNG's fallback.
    assert any("行動指針ごと・週ごとの Kudos" in text for text in said), said
