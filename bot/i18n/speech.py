"""`Speech`: one language's words, dates and numbers, handed to whatever draws a message.

A block builder takes `t: Speech` and writes `_ = t.gettext` then `_("…")`, so Babel's
extraction (`python3 dev.py i18n`) finds every string. Sentences are whole msgids with named
fields (`_("{name} gave you kudos").format(name=…)`), never glued from translated fragments,
because word order differs between languages. Counts go through `ngettext` (Japanese has one
form, German and French two, and French counts 0 as singular).
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
from collections.abc import Sequence
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

from bot.i18n.catalogs import PSEUDO_LOCALE, SHIPPED_LANGUAGES, SOURCE_LANGUAGE, translations


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, translate later"
    """Marks a module-level constant for extraction; translate it when drawing: `_(CONST)`."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - as N_, for plurals
    """Marks a singular and plural pair for extraction; say it with `t.ngettext(*pair, n)`."""
    return singular, plural


@dataclass(frozen=True, slots=True, eq=False)
class Speech:
    """What is said in `language`: translated words, and dates and numbers in its format."""

    language: str
    catalogue: gettext.NullTranslations
    locale: Locale

    def gettext(self, message: str) -> str:
        return self.catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.catalogue.ngettext(singular, plural, count)

    def number(self, value: float) -> str:
        if isinstance(value, int):
            # Counts are most of what a report writes, and Babel's formatting is slow:
            # each language's small numbers are formatted once.
            return _whole_number(value, self.language)
        return format_decimal(value, locale=self.locale)

    def decimal(self, value: float, pattern: str) -> str:
        """A number to a CLDR pattern in the locale's symbols: `0.0` → '3.2' / '3,2'."""
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float) -> str:
        """'42%' / '42 %': the locale's own percent sign and spacing."""
        return format_percent(value, locale=self.locale)

    def date(self, value: dt.date, format: str = "long") -> str:
        """'7 December 2026' / '7. Dezember 2026' / '2026年12月7日'."""
        return format_date(value, format=format, locale=self.locale)

    def day(self, value: dt.date) -> str:
        """The weekday and day without the year: 'Monday 7 December' / 'Montag, 7. Dezember'."""
        pattern = WEEKDAY_PATTERNS.get(self.language)
        if pattern is None:
            return format_skeleton("MMMMEEEEd", value, locale=self.locale)
        return format_date(value, format=pattern, locale=self.locale)

    def short_day(self, value: dt.date) -> str:
        """'7 Dec' / '7. Dez.'."""
        return format_skeleton("MMMd", value, locale=self.locale)

    def skeleton(self, skeleton: str, value: dt.date) -> str:
        """A date by CLDR skeleton, in the locale's own order: `yMMMM` → 'März 2026'."""
        return format_skeleton(skeleton, value, locale=self.locale)

    def time(self, value: dt.datetime | dt.time) -> str:
        """'09:00' / '9:00'; the locale's own clock."""
        return format_time(value, format="short", locale=self.locale)

    def day_and_time(self, value: dt.datetime) -> str:
        """'Monday 7 December, 09:00' / 'Montag, 7. Dezember, 09:00'."""
        return self.gettext("{day}, {time}").format(day=self.day(value), time=self.time(value))

    def datetime(self, value: dt.datetime, format: str = "medium") -> str:
        return format_datetime(value, format=format, locale=self.locale)

    def list(self, items: Sequence[str]) -> str:
        """'Ana, Ben and Carol' / 'Ana, Ben und Carol' / 'Ana、Ben、Carol'."""
        return format_list(list(items), locale=self.locale)


# Whose conventions a language's dates and numbers follow: the bot's English is British
# ("Monday 7 December"), and the pseudo-locale formats as English does.
FORMATS = {SOURCE_LANGUAGE: "en_GB", PSEUDO_LOCALE: "en_GB"}
# The weekday written out, as people write it in a sentence; CLDR's skeletons abbreviate it
# in some languages ("Mo., 7. Dezember").
WEEKDAY_PATTERNS = {
    "en": "EEEE d MMMM",
    "en_XA": "EEEE d MMMM",
    "de": "EEEE, d. MMMM",
    "fr": "EEEE d MMMM",
    "es": "EEEE, d 'de' MMMM",
    "pt_BR": "EEEE, d 'de' MMMM",
    "ja": "M月d日EEEE",
}


@functools.lru_cache(maxsize=20_000)
def _whole_number(value: int, language: str) -> str:
    return format_decimal(value, locale=speech(language).locale)


@functools.cache
def speech(language: str) -> Speech:
    """The cached `Speech` for a language (unknown ones speak English)."""
    if language not in SHIPPED_LANGUAGES and language != PSEUDO_LOCALE:
        language = SOURCE_LANGUAGE
    babel_locale = Locale.parse(FORMATS.get(language, language))
    return Speech(language=language, catalogue=translations(language), locale=babel_locale)


ENGLISH = speech(SOURCE_LANGUAGE)
