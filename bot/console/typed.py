"""What a person types at the console, read without surprises: the few rules every console
command and form question shares.

* **Numbers** (`click 3`, `react 4 :dart:`, a form's `2`) are read as the bot reads numbers
  (bot/text.py `numeric`): digits of any script, and what Unicode says is a digit in another
  form (`٣`, a fullwidth three, `³`) count as that digit; anything else, or more than
  `MAX_DIGITS` digits, is no number.
* **Lines** are at most `LINE_LIMIT` characters, Slack's limit for a message: a longer line is
  refused whole rather than sent cut.
* **Echoes** of what was typed, in an answer, are clipped (bot/text.py `clipped`), so a
  pasted megabyte comes back as one short line.
"""

from __future__ import annotations

from bot.i18n import ENGLISH, Speech
from bot.text import numeric

# Slack truncates a message past 40,000 characters (chat.postMessage); nobody types more.
LINE_LIMIT = 40_000
# Buttons, messages and menu choices on screen number far fewer than a million.
MAX_DIGITS = 6


def whole_number(text: str) -> int | None:
    """The positive whole number `text` is (`[3]` and `#3` as shown on screen too), or None."""
    cleaned = numeric(text.strip()).strip("[]#")
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > MAX_DIGITS:
        return None
    number = int(cleaned)
    return number if number > 0 else None


def too_long(line: str, t: Speech = ENGLISH) -> str | None:
    """Why `line` can't be sent, if it is longer than Slack takes; None when it is fine."""
    if len(line) <= LINE_LIMIT:
        return None
    said = t.gettext(
        "That line has {count} characters; Slack takes at most {limit} in a message. "
        "Nothing was sent."
    )
    return said.format(count=t.number(len(line)), limit=t.number(LINE_LIMIT))
