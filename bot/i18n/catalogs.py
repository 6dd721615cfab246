"""The compiled catalogues (bot/locales/<language>/LC_MESSAGES/messages.mo), loaded once each.

English is the source language: its words are the msgids themselves, so it has no catalogue.
`en_XA` is a pseudo-locale for tests and for finding what escaped translation: every
translated string comes out accented and a third longer, so English left in a message (a
string that never went through gettext) stands out, and a Block Kit limit that only a longer
language would break is broken in English tests already. Placeholders (`{count}`), code
(`` `/kudos help` ``), emoji codes, Slack markup (`<@U1>`) and entities stay as they are.
"""

from __future__ import annotations

import functools
import gettext
import re
from pathlib import Path

from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
# Everything shipped, English first; a `.po` and `.mo` exist for each but English.
SHIPPED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "pt_BR", "ja")
TRANSLATED_LANGUAGES = SHIPPED_LANGUAGES[1:]
PSEUDO_LOCALE = "en_XA"

# Spans the pseudo-locale leaves alone: format fields, code, Slack markup, emoji, entities.
_PROTECTED = re.compile(r"\{[^{}]*\}|`[^`]*`|<[^<>]*>|:[a-z0-9_+\-']+:|&[a-z]+;|%\([a-z_]+\)[sd]")
_ACCENTED = str.maketrans(
    "AEIOUYCDGLNRSTZaeiouycdglnrstz",
    "ÅÉÎÖÛÝÇĐĜĹÑŘŠŢŽåéîöûýçđĝĺñřšţž",
)


def pseudo(text: str) -> str:
    """`Kudos for {name}` → `⟦Ķûđöš ƒöř {name}~~~~~⟧`: accented, longer, fields kept."""
    pieces: list[str] = []
    position = 0
    for match in _PROTECTED.finditer(text):
        pieces.append(text[position : match.start()].translate(_ACCENTED))
        pieces.append(match.group())
        position = match.end()
    pieces.append(text[position:].translate(_ACCENTED))
    body = "".join(pieces)
    if not body.strip():
        return body
    return f"⟦{body}{'~' * (len(text) // 3)}⟧"


class PseudoTranslations(gettext.NullTranslations):
    """The `en_XA` catalogue: English, visibly transformed."""

    def gettext(self, message: str) -> str:
        return pseudo(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue for a shipped language (English and unknown ones: the msgids)."""
    if language == PSEUDO_LOCALE:
        return PseudoTranslations()
    if language == SOURCE_LANGUAGE or language not in SHIPPED_LANGUAGES:
        return gettext.NullTranslations()
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)
