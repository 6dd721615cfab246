"""Slack's locale for a person (`pt-BR`, `es-LA`, `en-GB`) to a language the bot ships.

Slack sends BCP 47-ish tags with a hyphen; gettext and Babel name catalogues with an
underscore. The order: the exact language and region (`pt_BR`), then the language alone
(`pt`, which finds the one Portuguese catalogue shipped), then the workspace's language.
Nothing here raises: a locale Slack adds later, a malformed one or none at all simply falls
back, since a person must always be answered.
"""

from __future__ import annotations

import functools
import re

from bot.i18n.catalogs import SHIPPED_LANGUAGES

# A language of 2-3 letters, then optional subtags (region, script) of 2-8 letters or digits.
LOCALE_PATTERN = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z0-9]{2,8}))*$")


def normalise(locale: str | None) -> tuple[str, str | None] | None:
    """`pt-BR` → ("pt", "BR"); `de` → ("de", None); anything else → None."""
    if not locale:
        return None
    value = locale.strip().split(".", 1)[0].split("@", 1)[0]
    if not LOCALE_PATTERN.match(value):
        return None
    parts = re.split(r"[-_]", value)
    language = parts[0].lower()
    region = parts[1].upper() if len(parts) > 1 else None
    return language, region


# Asked on every request that answers a person; Slack's locales are a few dozen strings.
@functools.lru_cache(maxsize=1024)
def negotiate(
    locale: str | None, fallback: str, shipped: tuple[str, ...] = SHIPPED_LANGUAGES
) -> str:
    """The shipped language for `locale`, else `fallback` (the workspace's language)."""
    parsed = normalise(locale)
    if parsed is None:
        return fallback
    language, region = parsed
    if region and f"{language}_{region}" in shipped:
        return f"{language}_{region}"
    if language in shipped:
        return language
    # `pt` (or `pt-PT`) finds `pt_BR`: closer to the reader than the workspace default.
    variants = [code for code in shipped if code.split("_", 1)[0] == language]
    return variants[0] if variants else fallback
