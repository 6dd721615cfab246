"""Counts shown to people are written the reader's way: a German reader reads 1.234 and a
French one 1 234 (CLDR's narrow no-break space), in Slack's messages, the dashboard's words
and the charts' numbers; JSON and CSV, an interface, keep 1234. No database: these are the
pure renderers the Slack and web paths call."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.kudos import allowance_line, kudos_summary
from bot.blocks.mission import principle_detail
from bot.blocks.recognition import givers_phrase
from bot.errors import Count, KudosRefused, UserError
from bot.i18n import speech
from bot.i18n.speech import N_
from bot.insights.numbers import QuietPeople
from bot.kudos.grammar import MESSAGE_MAX_CHARS, check_message_length
from bot.kudos.service import KudosSummary, PrincipleTally
from bot.mission.service import PrincipleInfo
from bot.reports.chart import ChartData, chart_figure
from bot.reports.lived import Lived
from bot.web.present import INTERFACE, Links, quiet_tables

BIG = 1234
# What each reader writes for BIG: German groups with a dot, French with U+202F.
WRITTEN = {"de": "1.234", "fr": "1\u202f234"}
PRINCIPLE = PrincipleInfo(
    id=1,
    key="plain-words",
    title="Plain words",
    description=None,
    category=None,
    emoji=None,
    number=7,
)


def _text(message: object) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", sorted(WRITTEN))
def test_a_principles_month_and_people_are_written_the_readers_way(language: str) -> None:
    lived = Lived(
        quotes=(), this_month=BIG, last_month=BIG + 1000, givers=BIG, receivers=BIG, recent=BIG
    )
    shown = _text(principle_detail(PRINCIPLE, lived, t=speech(language)))
    written = WRITTEN[language]
    assert shown.count(written) >= 3  # this month, the givers and the receivers
    grouped = {"de": ".", "fr": "\u202f"}[language]
    assert f"1{grouped}000" in shown  # the change against last month
    assert f"2{grouped}234" in shown  # last month
    assert "1234" not in shown


@pytest.mark.parametrize("language", sorted(WRITTEN))
def test_kudos_me_and_the_allowance_are_written_the_readers_way(language: str) -> None:
    t = speech(language)
    tally = PrincipleTally(PRINCIPLE, this_month=BIG, all_time=BIG)
    summary = KudosSummary(received=[tally], given=[tally], remaining_today=BIG, limit=BIG)
    message = kudos_summary("UANA", summary, t)
    assert WRITTEN[language] in message.text
    assert "1234" not in _text(message)
    assert allowance_line(BIG, BIG, t).count(WRITTEN[language]) == 2


@pytest.mark.parametrize("language", sorted(WRITTEN))
def test_and_n_others_in_a_thread_reply_is_written_the_readers_way(language: str) -> None:
    givers = [f"U{n:05d}" for n in range(BIG + 2)]
    said = givers_phrase(givers, {"U00000": "Ana", "U00001": "Ben"}, speech(language))
    assert WRITTEN[language] in said
    assert "1234" not in said


@pytest.mark.parametrize("language", sorted(WRITTEN))
def test_the_dashboards_quiet_lists_say_their_totals_the_viewers_way_and_json_keeps_digits(
    language: str,
) -> None:
    data = QuietPeople(
        since=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        not_recognised=(),
        not_recognised_total=BIG,
        gave_nothing=(),
        gave_nothing_total=BIG,
    )
    zone = ZoneInfo("UTC")

    def links(t: object) -> Links:
        return Links(principle=lambda _p: "", person=lambda _u: None, t=t)  # type: ignore[arg-type]

    said = [table.title for table in quiet_tables(data, links(speech(language)), zone)]  # type: ignore[arg-type]
    assert all(WRITTEN[language] in title for title in said), said
    interface = [table.title for table in quiet_tables(data, links(INTERFACE), zone)]  # type: ignore[arg-type]
    assert all("1234" in title for title in interface), interface


@pytest.mark.parametrize("language", sorted(WRITTEN))
def test_the_charts_cells_are_written_the_readers_way(language: str) -> None:
    data = ChartData(
        rows=("1. Plain words",),
        weeks=("7 Dec",),
        values=((BIG,),),
        title="Kudos",
        language=language,
    )
    figure = chart_figure(data)
    [axes] = figure.axes
    cells = [text.get_text() for text in axes.texts]
    assert cells == [WRITTEN[language]]


@pytest.mark.parametrize("language", sorted(WRITTEN))
def test_a_refusals_counts_are_written_the_readers_way_and_years_stay_digits(
    language: str,
) -> None:
    t = speech(language)
    with pytest.raises(KudosRefused) as too_long:
        check_message_length("x" * (MESSAGE_MAX_CHARS + BIG))
    said = too_long.value.said(t)
    assert t.number(MESSAGE_MAX_CHARS + BIG) in said
    assert t.number(MESSAGE_MAX_CHARS) in said
    assert str(MESSAGE_MAX_CHARS) not in said
    assert f"{MESSAGE_MAX_CHARS:,}" in too_long.value.message  # the English, as before
    year = UserError(N_("{count} kudos in {year}"), fields={"count": Count(BIG), "year": 2026})
    assert year.said(t) == f"{WRITTEN[language]} kudos in 2026"
