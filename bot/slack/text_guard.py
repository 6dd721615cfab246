"""A global middleware that refuses a request carrying text no database can store.

A NUL character or an unpaired surrogate anywhere in a request (see bot/text.py) used to give
different answers per database: `/kudos leaderboard #ab<NUL>cd` was "unknown principle" on
SQLite and the generic apology on PostgreSQL, and a kudos message kept it on one and lost it
on the other. Slack never sends either, so the whole request is refused, politely, before any
listener or service runs, and nothing is recorded.

This is the deepest place that sees every request once it is decoded: after Bolt's own
middleware (an unsigned request is still refused as unsigned), before ours (which already
uses the team id to synchronise the mission), and the same for HTTP and Socket Mode, which
both go through `App.dispatch`. Checking each parser instead would leave the next new field
unguarded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

from bot.blocks.mission import notice
from bot.i18n.speech import ENGLISH, N_, Speech, speech
from bot.text import unstorable_path

log = logging.getLogger(__name__)

# Said before anything about the request is trusted, so in the bot's own language.
REFUSAL = N_(
    "Your text has a character I can't store (a NUL or a broken character), so nothing was "
    "changed. Please type it again without it."
)


def refusal(body: dict[str, Any], path: tuple[str, ...], t: Speech = ENGLISH) -> BoltResponse:
    """The acknowledgement that tells the person, in the way the request's surface can."""
    said = t.gettext(REFUSAL)
    if "command" in body:
        message = notice(said)
        return _json({"response_type": "ephemeral", "text": message.text, "blocks": message.blocks})
    view = body.get("view") or {}
    inputs = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    if body.get("type") == "view_submission" and inputs:
        # `view.state.values.<block_id>…`: the error goes under the input that holds the text.
        at = path[3] if path[:3] == ("view", "state", "values") and len(path) > 3 else None
        return _json(
            {"response_action": "errors", "errors": {at if at in inputs else inputs[0]: said}}
        )
    return BoltResponse(status=200, body="")


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )


def register(app: App, language: str = "en") -> None:
    t = speech(language)

    # A plain function: Bolt injects arguments by the names it finds in the signature.
    @app.middleware
    def refuse_unstorable_text(
        body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        path = unstorable_path(body)
        if path is None:
            return next()
        # Where, never what: the text itself is the person's and may be anything.
        log.info("refused a request with unstorable text in %s", ascii(".".join(path[:4])))
        return refusal(body, path, t)
