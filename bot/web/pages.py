"""The dashboard's pages: thin views (parse the URL → bot/insights → tables → template, JSON
or CSV). The addresses are an interface people bookmark: /dashboard, /dashboard/principles,
/dashboard/principles/<key>, /dashboard/people/<user id>, /dashboard/leaderboards,
/dashboard/network, /dashboard/health (and /dashboard/people, the 60-day lists)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from bot.csvsafe import csv_text
from bot.i18n import Speech
from bot.i18n.speech import N_
from bot.insights import numbers
from bot.insights.numbers import Group
from bot.insights.window import (
    CUSTOM,
    Filters,
    InvalidView,
    Window,
    check_user_id,
    parse_filters,
    parse_window,
)
from bot.kudos.service import zone
from bot.reports.health import promise_health
from bot.reports.periods import Period, PeriodKind
from bot.web import present
from bot.web.access import Page, Viewer
from bot.web.app import error_page, services
from bot.web.groups import GroupsUnavailable
from bot.web.language import page_speech
from bot.web.present import INTERFACE, Links, Table
from bot.web.signin_views import csrf_token, current_viewer

PAGES = Blueprint("pages", __name__, url_prefix="/dashboard")

FILTER_ARGS = ("period", "from", "to", "group", "channel", "principle")
ALLOWED_ARGS = frozenset((*FILTER_ARGS, "format", "table"))
FORMATS = ("html", "json", "csv")
PERIOD_CHOICES = ("week", "month", "quarter", "year", "all", CUSTOM)
MANAGERS_ONLY = N_(
    "This page is for the bot's managers (workspace admins and owners, and MISSIONBOT_ADMINS). "
    "The overview, the principles, the leaderboards and your own page are open to you."
)
SIGN_IN_FIRST = N_("Sign in first: /kudos dashboard in Slack gives you a link.")


@dataclass(frozen=True)
class View:
    """One request's who, when and what: the viewer, the window, the filters."""

    page: Page
    viewer: Viewer
    window: Window
    filters: Filters
    groups: tuple[Group, ...] | None  # None: Slack wouldn't list them
    now: dt.datetime
    format: str

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.window.zone).date()

    @property
    def t(self) -> Speech:
        """The page's words in the viewer's language; JSON's and CSV's in the interface's."""
        return page_speech() if self.format == "html" else INTERFACE

    @property
    def carry(self) -> dict[str, Any]:
        """The URL's period and filters, for links that keep them."""
        return {k: v for k in FILTER_ARGS if (v := request.args.get(k, "").strip())}


@PAGES.errorhandler(InvalidView)
def _invalid(error: InvalidView) -> Any:
    return error_page(400, N_("That can't be shown"), error)


def _view(page: Page, person_id: str | None = None) -> View:
    who = current_viewer()
    if who is None:
        if request.args.get("format") in ("json", "csv"):
            abort(401, SIGN_IN_FIRST)
        abort(redirect(url_for("signin.signin_page")))
    if not who.may_see(page, person_id):
        abort(403, MANAGERS_ONLY)
    unknown = sorted(set(request.args) - ALLOWED_ARGS)
    if unknown:
        raise InvalidView(
            N_("The dashboard has no filter called {name}."), fields={"name": repr(unknown[0][:40])}
        )
    repeated = next((k for k in request.args if len(request.args.getlist(k)) > 1), None)
    if repeated:
        raise InvalidView(
            N_("The address gives {name} more than once."), fields={"name": repr(repeated)}
        )
    shape = request.args.get("format", "html")
    if shape not in FORMATS:
        raise InvalidView(N_("The format can be html, json or csv."))
    dash = services()
    now = dash.clock()
    where = zone(who.timezone)
    args = request.args
    window = parse_window(
        args.get("period"),
        args.get("from"),
        args.get("to"),
        today=now.astimezone(where).date(),
        zone=where,
    )
    filters = parse_filters(args.get("group"), args.get("channel"), args.get("principle"))
    try:
        groups: tuple[Group, ...] | None = dash.groups.groups(who.team_id)
    except GroupsUnavailable:
        groups = None
    if filters.group_id:
        group = next((g for g in groups or () if g.id == filters.group_id), None)
        if group is None:
            raise InvalidView(
                N_("That user group doesn't exist (any more), or Slack wouldn't say who is in it.")
            )
        tallied = filters.channel_id is None and dash.group_tallies.current(
            who.team_id, group.id, group.members
        )
        filters = dataclasses.replace(filters, members=group.members, tallied=tallied)
    return View(page, who, window, filters, groups, now, shape)


def _links(view: View, names: dict[str, str]) -> Links:
    carry: dict[str, Any] = view.carry

    def person(user_id: str) -> str | None:
        if not view.viewer.may_see(Page.PERSON, user_id):
            return None
        return url_for("pages.person", user_id=user_id, **carry)

    return Links(
        principle=lambda info: url_for("pages.principle", key=info.key, **carry),
        person=person,
        names=names,
        t=view.t,
    )


def _read(work: Callable[[Session], Any]) -> Any:
    with services().database.reading() as session:
        return work(session)


def _names(view: View, user_ids: set[str]) -> dict[str, str]:
    return _read(lambda s: numbers.names(s, view.viewer.team_id, user_ids))


def _render(view: View, template: str, title: str, tables: Sequence[Table], **extra: Any) -> Any:
    window = view.window
    if view.format == "json":
        return {
            "page": view.page.value,
            "title": title,
            "period": {
                "label": window.label,
                "period": window.period,
                "from": window.start.isoformat() if window.start else None,
                "until": window.end.isoformat() if window.end else None,
                "timezone": window.zone.key,
            },
            "filters": {
                "group": view.filters.group_id,
                "channel": view.filters.channel_id,
                "principle": view.filters.principle_key,
            },
            "tables": {t.name: t.records() for t in tables},
        }
    if view.format == "csv":
        wanted = request.args.get("table") or tables[0].name
        table = next((t for t in tables if t.name == wanted), None)
        if table is None:
            raise InvalidView(
                N_("This page has no table called {name}."), fields={"name": repr(wanted[:40])}
            )
        name = f"{view.page.value}-{window.period}-{table.name}.csv"
        return Response(
            csv_text(
                table.columns, [[str(c) if c is not None else "" for c in r] for r in table.rows]
            ),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return render_template(
        template,
        title=title,
        view=view,
        viewer=view.viewer,
        tables=tables,
        carry=view.carry,
        csrf=csrf_token(),
        picker=_picker(view),
        period=present.period_label(window, view.t),
        Page=Page,
        **extra,
    )


def _picker(view: View) -> dict[str, Any]:
    """What the period picker offers, with the current choices selected."""
    periods = list(PERIOD_CHOICES)
    if view.window.period not in periods:
        periods.insert(0, view.window.period)
    catalog = _read(lambda s: numbers.principles(s, view.viewer.team_id))
    return {
        "periods": periods,
        "period": view.window.period,
        "first": request.args.get("from", ""),
        "last": request.args.get("to", ""),
        "groups": view.groups or (),
        "group": view.filters.group_id or "",
        "channel": view.filters.channel_id or "",
        "principles": [ref.info for ref in catalog.values()],
        "principle": view.filters.principle_key or "",
    }


@PAGES.get("")
@PAGES.get("/")
def overview() -> Any:
    view = _view(Page.OVERVIEW)
    data = _read(
        lambda s: numbers.overview(
            s, view.viewer.team_id, view.window, view.filters, today=view.today
        )
    )
    tables = present.overview_tables(data, _links(view, {}))
    return _render(view, "overview.html", view.t.gettext("Overview"), tables)


@PAGES.get("/principles")
def principles() -> Any:
    view = _view(Page.PRINCIPLES)
    rows = _read(
        lambda s: numbers.principle_rows(
            s, view.viewer.team_id, view.window, view.filters, today=view.today
        )
    )
    return _render(
        view,
        "principles.html",
        view.t.gettext("Principles"),
        present.principles_tables(rows, _links(view, {})),
    )


@PAGES.get("/principles/<key>")
def principle(key: str) -> Any:
    view = _view(Page.PRINCIPLE)
    detail = _read(
        lambda s: numbers.principle_detail(
            s,
            view.viewer.team_id,
            view.window,
            view.filters,
            key.lower()[:40],
            viewer_id=view.viewer.user_id,
            today=view.today,
        )
    )
    names = _names(
        view, {q.giver_id for q in detail.quotes} | {q.receiver_id for q in detail.quotes}
    )
    tables = present.principle_tables(detail, _links(view, names), view.window.zone)
    shown = detail.row.principle.info.in_language(view.t.language)
    return _render(view, "principle.html", shown.title, tables, principle=shown)


@PAGES.get("/people/<user_id>")
def person(user_id: str) -> Any:
    check_user_id(user_id)
    view = _view(Page.PERSON, user_id)
    page = _read(
        lambda s: numbers.person_page(
            s,
            view.viewer.team_id,
            view.window,
            view.filters,
            user_id,
            viewer_id=view.viewer.user_id,
            today=view.today,
        )
    )
    names = _names(
        view, {user_id} | {q.giver_id for q in page.quotes} | {q.receiver_id for q in page.quotes}
    )
    tables = present.person_tables(page, _links(view, names), view.window.zone)
    return _render(view, "person.html", names[user_id], tables)


@PAGES.get("/people")
def quiet_people() -> Any:
    view = _view(Page.QUIET)
    data = _read(lambda s: numbers.quiet_people(s, view.viewer.team_id, view.filters, now=view.now))
    names = _names(view, {q.user_id for q in (*data.not_recognised, *data.gave_nothing)})
    tables = present.quiet_tables(data, _links(view, names), view.window.zone)
    return _render(view, "people.html", view.t.gettext("People gone quiet"), tables)


@PAGES.get("/leaderboards")
def leaderboards() -> Any:
    view = _view(Page.LEADERBOARDS)
    boards = _read(
        lambda s: numbers.leaderboards(s, view.viewer.team_id, view.window, view.filters)
    )
    everyone = {
        e.user_id for board in (boards.receivers, boards.givers, boards.weighted) for e in board
    }
    tables = present.leaderboard_tables(boards, _links(view, _names(view, everyone)))
    return _render(view, "leaderboards.html", view.t.gettext("Leaderboards"), tables)


@PAGES.get("/network")
def network() -> Any:
    view = _view(Page.NETWORK)
    data = _read(
        lambda s: numbers.network(
            s, view.viewer.team_id, view.window, view.filters, view.groups or ()
        )
    )
    names = _names(view, {p.first for p in data.pairs} | {p.second for p in data.pairs})
    tables = present.network_tables(data, _links(view, names))
    return _render(
        view,
        "network.html",
        view.t.gettext("Network"),
        tables,
        groups_unavailable=view.groups is None,
    )


@PAGES.get("/health")
def health() -> Any:
    view = _view(Page.HEALTH)
    if view.filters.any:
        raise InvalidView(
            N_("Promise health covers the whole workspace: it takes a period but no filters.")
        )
    window = view.window
    # The report reads only the period's dates (its trend ends with their last week); a custom
    # range is given as its dates.
    period = (
        Period(window.kind or PeriodKind.MONTH, window.start, window.end)
        if window.start is not None
        else Period(PeriodKind.ALL)
    )

    def report_of(session: Session) -> Any:
        numbers.quick_reads(session)
        return promise_health(
            session=session,
            team_id=view.viewer.team_id,
            period=period,
            bounds=window.bounds,
            where=window.zone,
            today=view.today,
        )

    report = _read(report_of)
    names = _names(view, {p.first for p in report.pairs} | {p.second for p in report.pairs})
    links = _links(view, names)
    tables = [
        *present.health_tables(report, links),
        present.network_tables(numbers.Network((), (), report.pairs), links)[1],
    ]
    return _render(view, "health.html", view.t.gettext("Promise health"), tables)
