"""Block Kit for recognition in the conversation: the thread reply under a recognised message,
the author's one DM about it, and the notes to a reactor or to a `kudos …` message's author.

Givers are named in plain text, not as `<@U…>` mentions: a thread reply edited as fifty people
react must not notify fifty people. Names are escaped like every other text from Slack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block

from bot.blocks.common import MESSAGE_BLOCK_LIMIT, Message, as_dicts, clip, context, escape, section
from bot.blocks.kudos import FALLBACK_TEXT_LIMIT, principle_tag
from bot.i18n.speech import ENGLISH, N_, Speech
from bot.i18n.whose import LANGUAGE_NAMES
from bot.kudos.reactions import MessageRecognition, PrincipleRecognition
from bot.kudos.ways import Ways

# Givers named before "and N others".
NAMED_GIVERS = 2
# The reply's principle lines, leaving a block for its footer.
PRINCIPLE_LINES = MESSAGE_BLOCK_LIMIT - 1
WITHDRAWN = N_(
    ":leftwards_arrow_with_hook: The principle reactions on this message were withdrawn."
)


def givers_phrase(giver_ids: Sequence[str], names: Mapping[str, str], t: Speech = ENGLISH) -> str:
    """'Ana', 'Ana and Ben', 'Ana, Ben and 3 others' — plain names, nobody pinged."""
    someone = t.gettext("someone")
    shown = [escape(names.get(giver_id) or someone) for giver_id in giver_ids[:NAMED_GIVERS]]
    others = len(giver_ids) - len(shown)
    if others == 0:
        return t.list(shown)
    return t.ngettext("{names} and {count} other", "{names} and {count} others", others).format(
        names=", ".join(shown), count=t.number(others)
    )


def principle_line(
    line: PrincipleRecognition, names: Mapping[str, str], t: Speech = ENGLISH
) -> str:
    return t.gettext("{principle} — recognised by {givers}").format(
        principle=principle_tag(line.principle), givers=givers_phrase(line.giver_ids, names, t)
    )


def thread_reply(
    recognition: MessageRecognition, names: Mapping[str, str], t: Speech = ENGLISH
) -> Message:
    """The one reply in a recognised message's thread, redrawn as reactions come and go; in
    the workspace language (`t`, with the principles put into it)."""
    _ = t.gettext
    if not recognition.principles:
        withdrawn = _(WITHDRAWN)
        return Message(text=withdrawn, blocks=as_dicts([context(withdrawn)]))
    lines = [principle_line(line, names, t) for line in recognition.principles]
    blocks: list[Block] = [section(line) for line in lines[:PRINCIPLE_LINES]]
    if len(lines) > PRINCIPLE_LINES:
        more = len(lines) - PRINCIPLE_LINES + 1
        blocks[-1] = section(
            t.ngettext("…and {count} more principle", "…and {count} more principles", more).format(
                count=t.number(more)
            )
        )
    blocks.append(context(_("React with a principle's emoji to recognise this too · `/mission`")))
    return Message(text=clip("\n".join(lines), FALLBACK_TEXT_LIMIT), blocks=as_dicts(blocks))


def author_dm(
    recognition: MessageRecognition, names: Mapping[str, str], t: Speech = ENGLISH
) -> Message:
    """To the author, once per message, in their language: what it was recognised for so far,
    with a link."""
    _ = t.gettext
    if recognition.permalink:
        headline = _(":tada: <{link}|Your message> was recognised with principle reactions:")
    else:
        headline = _(":tada: Your message in {channel} was recognised with principle reactions:")
    headline = headline.format(link=recognition.permalink, channel=f"<#{recognition.channel_id}>")
    lines = [headline]
    lines += [f"• {principle_line(line, names, t)}" for line in recognition.principles[:20]]
    text = "\n".join(lines)
    return Message(
        text=clip(headline.removeprefix(":tada: ").rstrip(":"), FALLBACK_TEXT_LIMIT),
        blocks=as_dicts([section(text)]),
    )


def allowance_note(limit: int, t: Speech = ENGLISH) -> Message:
    """To a reactor over the allowance, once a day, in their language."""
    text = t.ngettext(
        ":hourglass: You've given today's {limit} kudos, so your principle reactions today "
        "are just reactions: nothing more is recorded until your allowance renews at midnight "
        "your time. (I'll say this once today.)",
        ":hourglass: You've given today's {limit} kudos, so your principle reactions today "
        "are just reactions: nothing more is recorded until your allowance renews at midnight "
        "your time. (I'll say this once today.)",
        limit,
    ).format(limit=limit)
    return Message(text=text, blocks=as_dicts([section(text)]))


def message_kudos_refused(reason: str, trigger_word: str, t: Speech = ENGLISH) -> Message:
    """To the author of a `kudos …` message that recorded nothing, in their language."""
    how = t.gettext(
        "A message that starts with `{word}` gives kudos like `/kudos` does: "
        "`{word} @ana #plain-words thanks for the clear notice`."
    ).format(word=escape(trigger_word))
    text = f"{reason}\n{how}"
    return Message(text=text, blocks=as_dicts([section(text)]))


def ways_message(ways: Ways, changed: bool, language: str = "en", t: Speech = ENGLISH) -> Message:
    """`/kudos settings`: what this workspace has on, its language, and how to change them;
    in the manager's own language."""
    _ = t.gettext

    def on(value: bool) -> str:
        return _("*on*") if value else _("*off*")

    trigger = escape(ways.trigger_word)
    lines = [
        _(":white_check_mark: Saved. This workspace now has:")
        if changed
        else _("This workspace has:"),
        _(
            "• principle reactions {state}: a principle's emoji on a message gives its author kudos"
        ).format(state=on(ways.reactions)),
        _(
            "• kudos in a message {state}: a message starting with `{trigger}` that names "
            "people gives them kudos"
        ).format(state=on(ways.messages), trigger=trigger),
        _(
            "• language *{name}* (`{code}`): what its channels read, and anyone whose own isn't "
            "shipped"
        ).format(name=LANGUAGE_NAMES.get(language, language), code=language),
        _(
            "Change with `/kudos settings reactions on|off`, `/kudos settings messages on|off`, "
            "`/kudos settings trigger WORD`, `/kudos settings language de`."
        ),
    ]
    text = "\n".join(lines)
    return Message(text=text, blocks=as_dicts([section(text)]))
