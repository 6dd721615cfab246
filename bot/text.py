"""Text that people send: what the databases can't store, and what disguises text when shown.

Pure functions, no Slack and no database; the rest of the bot uses them at two edges.

* **Stored.** PostgreSQL refuses a NUL character in text, and neither database can encode an
  unpaired UTF-16 surrogate (JSON's `"\\ud800"` decodes to one); SQLite stores a NUL quietly.
  Slack never sends either, so bot/slack/text_guard.py refuses a request carrying one before
  any listener sees it: the same answer on both databases, and nothing recorded.
* **Shown again.** Bidirectional controls (U+202A to U+202E, U+2066 to U+2069, U+200E,
  U+200F, U+061C) reorder what follows them: `https://evil.example/\\u202efdp.exe` displays as
  `…exe.pdf`. `escape` drops them along with escaping mrkdwn, so every message built from
  user text is covered; `echo` shows user input back inside a reply.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_BIDI = re.compile(f"[{''.join(sorted(BIDI_CONTROLS))}]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ECHO_LIMIT = 60


def without_bidi(text: str) -> str:
    """`text` without the controls that reorder how it displays."""
    return _BIDI.sub("", text)


def is_storable(text: str) -> bool:
    """False for text with a NUL or an unpaired surrogate, which a database would refuse."""
    return _UNSTORABLE.search(text) is None


def unstorable_path(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where in a decoded request body the first unstorable string is (keys count too)."""
    if isinstance(value, str):
        return None if is_storable(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and not is_storable(key):
                return (*path, key)
            found = unstorable_path(item, (*path, str(key)))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_path(item, (*path, str(index)))
            if found is not None:
                return found
    return None


def numeric(text: str) -> str:
    """Text meant as a number, time or date, with its digits and signs in ASCII.

    NFKC first (fullwidth digits and colon become ASCII), then every decimal digit of any script as
    its ASCII digit (`٩:٣٠` is `9:30`; NFKC leaves those). Each parser of numbers (post times,
    `/mission 3` and `#3`, periods like `2026-03`) reads its text through this and then
    matches ASCII digits only, so what it stores and shows is always ASCII.
    """
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(char)) if unicodedata.category(char) == "Nd" else char
        for char in unicodedata.normalize("NFKC", text)
    )


def escape(value: str) -> str:
    """Text for mrkdwn: Slack's three control characters escaped, bidi controls dropped."""
    return without_bidi(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def echo(value: str, limit: int = ECHO_LIMIT) -> str:
    """Something the user typed, quoted back in a reply as a one-line code span.

    Slack sends typed `<`, `>` and `&` as entities and its own markup (`<!channel>`,
    `<@U…>`, links) raw; both are shown as typed and neither pings nor links. Backticks
    become quotes so the span can't be closed early, and long input is clipped.
    """
    typed = value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    typed = " ".join(without_bidi(typed).split()).replace("`", "'")
    if len(typed) > limit:
        typed = typed[: limit - 1] + "…"
    return f"`{escape(typed) or ' '}`"


def clipped(text: str, limit: int = 30) -> str:
    """Something typed, shown back in a plain-text line (the console, the command line): on
    one line, cut to `limit` characters with an ellipsis, so a pasted megabyte stays short."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
