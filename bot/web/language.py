"""Which language a dashboard page is in, and the words Jinja2's templates say it with.

A signed-in viewer reads in their own language (their Slack locale, negotiated; else the
workspace's), as on every surface only one person reads; before sign-in, the bot's language
(MISSIONBOT_LANGUAGE). Templates say `_("…")`, `ngettext(…)` (Jinja2's i18n extension, the
new style: `%(name)s` fields, autoescaped) and format dates and numbers with `t`, the page's
`Speech`. What is an interface stays English whoever asks: CSV column headers, JSON keys and
values (pages.py builds those tables with `ENGLISH`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, session
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from bot.i18n import ENGLISH, Speech, speech


def page_speech() -> Speech:
    """This request's reader's language: set when the viewer is known, else the bot's."""
    if not has_request_context():
        return ENGLISH
    if "speech" not in g:
        g.speech = None
        _look_up_viewer()
    chosen = g.get("speech")
    if isinstance(chosen, Speech):
        return chosen
    from bot.web.app import services

    return speech(services().settings.missionbot_language)


def _look_up_viewer() -> None:
    """For a page that didn't ask who is signed in (an unknown address, a refused method):
    ask now, so that its error page is in their language too."""
    if not session.get("user"):
        return
    from bot.web.signin_views import current_viewer

    try:
        current_viewer()
    except (HTTPException, SQLAlchemyError):
        # An error page must still be drawn when the viewer is refused or the database is
        # what failed: in the bot's language, then.
        return


def use_language(language: str) -> None:
    """From now on in this request, pages speak `language` (the signed-in viewer's)."""
    g.speech = speech(language)


def html_lang(language: str) -> str:
    """`pt_BR` → `pt-BR`: HTML's `lang` is a BCP 47 tag (the pseudo-locale: `en-XA`)."""
    return language.replace("_", "-")


def install(app: Flask) -> None:
    """Jinja2's i18n extension, its gettext looked up per request, and `t` and `lang` in
    every template's context."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: page_speech().gettext(message),
        ngettext=lambda singular, plural, n: page_speech().ngettext(singular, plural, n),
        newstyle=True,
    )

    @app.context_processor
    def _words() -> dict[str, Any]:
        t = page_speech()
        return {"t": t, "lang": html_lang(t.language)}
