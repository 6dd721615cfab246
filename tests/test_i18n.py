"""Languages: negotiation, the catalogues' completeness, the pseudo-locale, dates.

The catalogue tests are the check the issue asks of `dev.py test`: a string in the code that
is not in bot/locales/messages.pot, or a shipped catalogue with an untranslated, fuzzy or
stale entry, fails here; `python3 dev.py i18n` brings the files up to date.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.i18n import negotiate, speech
from bot.i18n.catalogs import LOCALES_DIR, TRANSLATED_LANGUAGES, pseudo

FIELD = re.compile(r"\{[a-z_]*\}")
# What a translation must carry over unchanged besides the {fields}: printf-style fields,
# emoji codes, and Slack's links and mentions (`<{url}|label>` keeps its url field).
KEPT = {
    "a %(field)s": re.compile(r"%\([a-z_]+\)[sd]"),
    "an emoji code": re.compile(r"(?<![\w:]):[a-z0-9_+\-']+:(?![\w:])"),
    "a Slack link or mention": re.compile(r"<[@#!][^<>|]*>|<\{[a-z_]+\}\|"),
}
# mrkdwn that must balance the same way: code spans, bold, bullets and line breaks.
COUNTED = ("`", "*", "•", "\n")


@pytest.mark.parametrize(
    ("slack_locale", "expected"),
    [
        ("pt-BR", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("de-DE", "de"),
        ("de", "de"),
        ("fr-CA", "fr"),
        ("es-LA", "es"),
        ("ja-JP", "ja"),
        ("en-GB", "en"),
        ("en-US", "en"),
        ("xx-YY", "de"),
        ("zh-CN", "de"),
        ("", "de"),
        (None, "de"),
        ("   ", "de"),
        ("pt_br", "pt_BR"),
        ("de-DE-x-private-use-tag", "de"),
        ("<script>", "de"),
        ("-BR", "de"),
        ("en-XA", "en"),
    ],
)
def test_a_slack_locale_negotiates_to_a_shipped_language_or_the_workspace_one(
    slack_locale: str | None, expected: str
) -> None:
    assert negotiate(slack_locale, fallback="de") == expected


def _template_ids() -> set[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as file:
        return {
            str(message.id if isinstance(message.id, str) else message.id[0])
            for message in read_po(file)
            if message.id
        }


def _extracted() -> set[str]:
    """Every msgid in the code and the dashboard's templates, extracted as dev.py does."""
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "NP_": (1, 2)}
    root = Path(__file__).resolve().parent.parent
    with (root / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    return {
        str(message if isinstance(message, str) else message[0])
        for _file, _line, message, _comments, _context in extract_from_dir(
            root / "bot", method_map=method_map, options_map=options_map, keywords=keywords
        )
    }


def test_the_templates_are_extracted_too() -> None:
    assert "Sign in to the dashboard" in _extracted()


def test_every_string_in_the_code_is_in_the_template() -> None:
    found = _extracted()
    missing = sorted(found - _template_ids())
    assert not missing, f"run `python3 dev.py i18n`: not in messages.pot: {missing[:5]}"
    stale = sorted(_template_ids() - found)
    assert not stale, f"run `python3 dev.py i18n`: no longer in the code: {stale[:5]}"


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_each_catalogue_translates_every_string_with_the_same_fields(language: str) -> None:
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as file:
        catalogue = read_po(file, locale=language)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        label = ids[0][:60]
        if message.fuzzy:
            problems.append(f"fuzzy: {label}")
        if not all(strings):
            problems.append(f"untranslated: {label}")
            continue
        wanted = set(FIELD.findall(ids[-1])) | set(FIELD.findall(ids[0]))
        for string in strings:
            if not set(FIELD.findall(string)) <= wanted:
                problems.append(f"a field the English lacks in {label!r}: {string!r}")
        if len(ids) == 1 and set(FIELD.findall(strings[0])) != wanted:
            problems.append(f"fields differ in {label!r}: {strings[0]!r}")
    template = _template_ids()
    have = {str(m.id if isinstance(m.id, str) else m.id[0]) for m in catalogue if m.id}
    problems += [f"missing: {msgid[:60]}" for msgid in sorted(template - have)]
    assert not problems, f"{language}: " + "; ".join(problems[:8])


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_each_catalogue_has_its_languages_plural_forms_and_keeps_the_markup(
    language: str,
) -> None:
    """The Plural-Forms header is CLDR's rule for the language, every plural entry has exactly
    that many forms, and no form drops or invents a printf field, an emoji code, a Slack link
    or mention, a code span, bold, a bullet or a line break (a reworded string may move
    them, not lose them)."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as file:
        catalogue = read_po(file, locale=language)
    rule = get_plural(language)
    assert (catalogue.num_plurals, catalogue.plural_expr) == (rule.num_plurals, rule.plural_expr)
    # Counted in the file itself: Babel's reader pads missing forms and drops extra ones.
    problems = [
        f"forms {indices} in {entry[entry.index('msgid ') :][:60]!r}"
        for entry in path.read_text(encoding="utf-8").split("\n\n")
        if "msgid_plural" in entry
        and (indices := re.findall(r"^msgstr\[(\d+)\]", entry, re.MULTILINE))
        != [str(form) for form in range(rule.num_plurals)]
    ]
    for message in catalogue:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        label = ids[0][:60]
        for string in strings:
            for what, pattern in KEPT.items():
                if sorted(pattern.findall(string)) != sorted(pattern.findall(ids[-1])):
                    problems.append(f"{what} differs in {label!r}: {string!r}")
            for mark in COUNTED:
                if string.count(mark) != ids[-1].count(mark):
                    problems.append(f"{mark!r} count differs in {label!r}: {string!r}")
    assert not problems, f"{language}: " + "; ".join(problems[:8])


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_each_compiled_catalogue_matches_its_source(language: str) -> None:
    folder = LOCALES_DIR / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as file:
        source = read_po(file, locale=language)
    with (folder / "messages.mo").open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    for message in source:
        if not message.id:
            continue
        if isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, "run `python3 dev.py i18n`"
        else:
            assert compiled.ngettext(message.id[0], message.id[1], 1) == message.string[0]


def test_the_pseudo_locale_accents_and_lengthens_but_keeps_fields_code_and_markup() -> None:
    text = pseudo("Kudos for {name} :tada: `/kudos help` <@U1> &amp;")
    assert "{name}" in text
    assert ":tada:" in text
    assert "`/kudos help`" in text
    assert "<@U1>" in text
    assert "&amp;" in text
    assert "Kudos" not in text
    assert len(text) > len("Kudos for {name} :tada: `/kudos help` <@U1> &amp;") * 1.2


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Monday 7 December, 09:00"),
        ("de", "Montag, 7. Dezember, 09:00"),
        ("fr", "lundi 7 décembre à 09:00"),
        ("es", "lunes, 7 de diciembre, a las 9:00"),
        ("pt_BR", "segunda-feira, 7 de dezembro, às 09:00"),
        ("ja", "12月7日月曜日 9:00"),
    ],
)
def test_dates_are_written_in_the_languages_own_way(language: str, expected: str) -> None:
    assert speech(language).day_and_time(dt.datetime(2026, 12, 7, 9, 0)) == expected


def test_an_unknown_language_speaks_english() -> None:
    assert speech("xx").language == "en"
