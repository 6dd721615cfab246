"""What people type for `/kudos`: the command grammar and the rules for a kudos message.

`/kudos @ana [@ben …] #principle message`, the parts in any order. Slack escapes the text
(`should_escape` in the manifest): people arrive as `<@U123|ana>` (or `<@U123>`), user groups
as `<!subteam^S123|@team>`, `&`, `<` and `>` as entities, and Slack markup (`<!channel>`,
`<https://…|label>`) as angle-bracket tokens. The principle is a `#key`, `#3`, `#title-word`,
or failing those a principle's emoji (`:dart:`, or one of its aliases). A message in a
channel (`kudos @ana …`) arrives in the same form and is parsed the same way.
Parsing turns all of that into recipients, a principle and a plain-text message;
rendering escapes the message again (bot/blocks/kudos.py), so nothing typed can ping or
disguise a link. Pure functions: no database, no Slack.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.errors import Count, KudosRefused, UnknownPrinciple
from bot.i18n.speech import N_
from bot.mission.service import Catalog, PrincipleInfo
from bot.text import without_bidi

MESSAGE_MAX_CHARS = 1000

# A fuzzy title match must be good and clearly better than the runner-up to count.
FUZZY_MIN_SCORE = 80
FUZZY_MIN_LEAD = 10
_STOPWORDS = frozenset(
    {"a", "an", "and", "at", "be", "by", "for", "in", "is", "it", "of", "on", "or", "not"}
    | {"the", "then", "to", "with", "just", "our", "we", "you"}
)

_TOKEN = re.compile(
    r"<@(?P<user>[UW][A-Z0-9]+)(?:\|[^>]*)?>"
    r"|<!subteam\^(?P<group>S[A-Z0-9]+)(?:\|[^>]*)?>"
    r"|(?<![\w:]):(?P<emoji>[a-z0-9_+\-']+):(?![\w])"
    r"|<#(?P<channel>[CG][A-Z0-9]+)(?:\|(?P<channel_name>[^>]*))?>"
    r"|(?<![\w&/])#(?:[\"“](?P<quoted>[^\"“”\n]+)[\"”]|(?P<tag>[^\s#<>\"“”]+))"
)
_TRAILING_PUNCTUATION = ".,;:!?)]}'\u2019"
_SPECIAL = re.compile(r"<!(?P<name>[^|>]*)(?:\|(?P<label>[^>]*))?>")
_LINK = re.compile(r"<(?P<url>[a-zA-Z][a-zA-Z0-9+.-]*:[^|>\s]*)(?:\|(?P<label>[^>]*))?>")
_SPACES = re.compile(r"[ \t]{2,}")
# Characters that show nothing on their own: a message made only of these is empty.
_INVISIBLE = frozenset("\u115f\u1160\u2800\u3164\uffa0")


@dataclass(frozen=True, slots=True)
class KudosDraft:
    """What a `/kudos` text said; any part may be missing (then the modal asks for it)."""

    recipients: tuple[str, ...]
    principle: PrincipleInfo | None
    message: str
    # User groups mentioned (`<!subteam^S…>`): the listener expands them to their members.
    groups: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return (
            bool(self.recipients or self.groups)
            and self.principle is not None
            and not is_blank(self.message)
        )


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    reference: str
    is_channel: bool
    is_emoji: bool = False


def parse_kudos(text: str, catalog: Catalog) -> KudosDraft:
    """Split escaped slash-command text into recipients, principle and message.

    Raises `UnknownPrinciple` when a `#reference` names no principle, and `KudosRefused` for
    two different principles or an over-long message.
    """
    recipients: list[str] = []
    groups: list[str] = []
    candidates: list[_Candidate] = []
    for match in _TOKEN.finditer(text):
        if match["user"]:
            if match["user"] not in recipients:
                recipients.append(match["user"])
        elif match["group"]:
            if match["group"] not in groups:
                groups.append(match["group"])
        elif match["emoji"]:
            candidates.append(_Candidate(match.start(), match["emoji"], False, is_emoji=True))
        elif match["channel"]:
            # A principle key that is also a channel name arrives as a channel link.
            name = (match["channel_name"] or "").strip()
            candidates.append(_Candidate(match.start(), name, is_channel=True))
        else:
            reference = match["quoted"] or match["tag"].rstrip(_TRAILING_PUNCTUATION)
            candidates.append(_Candidate(match.start(), reference, is_channel=False))

    chosen, principle = _choose_principle(candidates, catalog)
    message = _message_without_tokens(text, chosen)
    message = clean_message(from_slack_markup(message))
    check_message_length(message)
    return KudosDraft(
        recipients=tuple(recipients), principle=principle, message=message, groups=tuple(groups)
    )


def _choose_principle(
    candidates: list[_Candidate], catalog: Catalog
) -> tuple[_Candidate | None, PrincipleInfo | None]:
    emoji = [c for c in candidates if c.is_emoji]
    candidates = [c for c in candidates if not c.is_emoji]
    exact: list[tuple[_Candidate, PrincipleInfo]] = []
    for candidate in candidates:
        try:
            exact.append((candidate, catalog.resolve(candidate.reference)))
        except UnknownPrinciple:
            continue
    distinct = {principle.key for _candidate, principle in exact}
    if len(distinct) > 1:
        named = ", ".join(f"`#{key}`" for key in sorted(distinct))
        raise KudosRefused(
            N_(
                "A kudos is tagged to exactly one principle, and you named {named}. "
                "Pick the one it shows best."
            ),
            field="principle",
            fields={"named": named},
        )
    if exact:
        return exact[0]
    for candidate in candidates:
        if candidate.is_channel:
            continue
        match = fuzzy_principle(catalog, candidate.reference)
        if match is not None:
            return candidate, match
    plain = [c for c in candidates if not c.is_channel]
    if plain:
        reference = plain[0].reference
        raise UnknownPrinciple(reference, catalog.suggest(reference), catalog.keys)
    # No `#principle`: a principle's emoji names it (any other emoji is just an emoji).
    for candidate in emoji:
        found = catalog.by_reaction(candidate.reference)
        if found is not None:
            return candidate, found
    return None, None


def fuzzy_principle(catalog: Catalog, reference: str) -> PrincipleInfo | None:
    """The one principle whose title (in any language the mission file gives) or key
    `reference` clearly matches, if there is one."""
    words = re.findall(r"\w+", reference.lower().replace("-", " "))
    if not words or all(word in _STOPWORDS for word in words) or len("".join(words)) < 3:
        return None
    query = " ".join(words)
    scored = sorted(
        (
            (
                max(
                    *(fuzz.WRatio(query, title.lower()) for title in principle.titles),
                    fuzz.WRatio(query, principle.key.replace("-", " ")),
                ),
                principle,
            )
            for principle in catalog.principles
        ),
        key=lambda pair: pair[0],
        reverse=True,
    )
    if not scored or scored[0][0] < FUZZY_MIN_SCORE:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < FUZZY_MIN_LEAD:
        return None
    return scored[0][1]


def _message_without_tokens(text: str, chosen: _Candidate | None) -> str:
    """The text minus mentions and the chosen principle; other channel links as `#name`."""
    pieces: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        pieces.append(text[position : match.start()])
        position = match.end()
        if match["user"] or match["group"]:
            pieces.append(" ")
        elif chosen is not None and match.start() == chosen.start:
            # Trailing punctuation goes with it: "… bug #fix-the-cause." leaves "… bug".
            pieces.append(" ")
        elif match["channel"]:
            pieces.append(f"#{match['channel_name'] or 'channel'}")
        else:
            pieces.append(match.group(0))
    pieces.append(text[position:])
    return "".join(pieces)


def from_slack_markup(text: str) -> str:
    """Slack's escaped text as a person typed it: `<!here>` → `@here`, links spelled out."""

    def special(match: re.Match[str]) -> str:
        if match["label"]:
            return match["label"]
        name = match["name"].split("^", 1)[0]
        return f"@{name}" if name in {"channel", "here", "everyone"} else f"@{name or 'group'}"

    def link(match: re.Match[str]) -> str:
        url, label = match["url"], match["label"]
        shown = url.removeprefix("mailto:")
        if not label or label in {url, shown} or url.endswith("//" + label):
            return shown
        return f"{label} ({shown})"

    text = _SPECIAL.sub(special, text)
    text = _LINK.sub(link, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clean_message(text: str) -> str:
    """Drop control characters (keeping newlines and tabs) and the bidi controls that would
    disguise the message when it is reposted, tidy spaces, trim the ends."""
    text = without_bidi(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(
        char
        for char in text
        if char in "\n\t" or unicodedata.category(char) not in {"Cc", "Cs", "Co"}
    )
    text = _SPACES.sub(" ", text)
    return "\n".join(line.strip() for line in text.strip().split("\n"))


def is_blank(text: str) -> bool:
    """True when nothing visible remains: only spaces, zero-width or direction marks."""
    return all(
        char.isspace() or char in _INVISIBLE or unicodedata.category(char) in {"Cf", "Cc", "Zs"}
        for char in text
    )


def check_message_length(message: str) -> None:
    if len(message) > MESSAGE_MAX_CHARS:
        raise KudosRefused(
            N_(
                "Your message is {length} characters long; a kudos message can have at most "
                "{limit}. Please shorten it and try again."
            ),
            field="message",
            fields={"length": Count(len(message)), "limit": Count(MESSAGE_MAX_CHARS)},
        )


def check_message(message: str) -> str:
    """A message fit to record: 1 to 1000 characters with something visible in it."""
    if is_blank(message):
        raise KudosRefused(
            N_("Please say what they did: the kudos message can't be empty."), field="message"
        )
    check_message_length(message)
    return message
