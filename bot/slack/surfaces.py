"""One typed request object per Slack surface (other than slash commands), and the adapter that
builds it, so every listener is `(ack, request, services)`, or `(request, services)` for events.

Slash commands have theirs, `CommandRequest`, in bot/slack/commands.py. Each object here holds
what its listener reads from the payload, who asked, and the clients to answer with: `client`
(Bolt's, which may retry and wait, for work after the ack) and `quick_client` (for calls before
the ack and for views.open; see bot/slack/deadline.py). The adapter runs inside
`after_ack_safe`, so reading the payload fails the same way reading it in the listener did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext, BoltRequest, Respond
from slack_sdk import WebClient

from bot.blocks.ids import KudosBlock, KudosInput
from bot.kudos.grammar import clean_message
from bot.kudos.service import Source
from bot.slack.deadline import SlackDeadline, deadline_of
from bot.slack.installation import team_of, workspace_of
from bot.slack.services import Services

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Interaction:
    """Someone clicked or submitted something: who, in which workspace, and the clients."""

    team_id: str
    user_id: str
    bot_user_id: str | None
    client: WebClient
    deadline: SlackDeadline
    # The workspace it came from (`T…`): an org-wide install's team_id is its enterprise.
    workspace_id: str | None

    @property
    def quick_client(self) -> WebClient:
        """The client for Slack calls before the ack: they end within Slack's three seconds."""
        return self.deadline.client


def _who(context: BoltContext) -> dict[str, Any]:
    return {
        "team_id": team_of(context),
        "user_id": str(context.user_id),
        "bot_user_id": context.bot_user_id,
        "client": context.client,
        "deadline": deadline_of(context),
        "workspace_id": workspace_of(context),
    }


def asker(context: BoltContext) -> Interaction:
    """The `Interaction` part of any request, from its Bolt context (a slash command's too)."""
    return Interaction(**_who(context))


@dataclass(frozen=True, slots=True)
class KudosSubmission(Interaction):
    """The kudos modal, submitted."""

    recipient_ids: list[str]
    principle_key: str | None
    message: str  # cleaned (bot/kudos/grammar.py)
    channel_id: str | None  # the "share in" choice, else where the modal was opened
    source: Source
    response_url: str | None
    # The thread to announce in: the message's, when the form came from the shortcut.
    thread_ts: str | None = None

    @classmethod
    def of(cls, request: BoltRequest) -> KudosSubmission:
        body = request.body
        view = body["view"]
        # Slack may send a state with no `values` (nothing filled in): then nothing was chosen,
        # and the listener refuses it as it would an empty form.
        values = (view.get("state") or {}).get("values") or {}
        metadata = _metadata(view)
        recipient_ids = _value(
            values, KudosBlock.RECIPIENTS, KudosInput.RECIPIENTS, "selected_users"
        )
        selected = _value(values, KudosBlock.PRINCIPLE, KudosInput.PRINCIPLE, "selected_option")
        message = _value(values, KudosBlock.MESSAGE, KudosInput.MESSAGE, "value")
        channel_id = _value(
            values, KudosBlock.SHARE_IN, KudosInput.SHARE_IN, "selected_conversation"
        ) or metadata.get("channel")
        return cls(
            **_who(request.context),
            recipient_ids=recipient_ids or [],
            principle_key=(selected or {}).get("value"),
            message=clean_message(message or ""),
            channel_id=channel_id,
            source=Source.SHORTCUT if metadata.get("source") == Source.SHORTCUT else Source.MODAL,
            response_url=next(
                (
                    u.get("response_url")
                    for u in body.get("response_urls") or []
                    if u.get("response_url")
                ),
                None,
            ),
            thread_ts=_thread_in(metadata, channel_id),
        )


def _thread_in(metadata: dict[str, Any], channel_id: str | None) -> str | None:
    """The shortcut's thread, if the kudos is still shared in that message's channel."""
    thread_ts = metadata.get("thread_ts")
    if not isinstance(thread_ts, str) or channel_id != metadata.get("channel"):
        return None
    return thread_ts


def _value(values: dict[str, Any], block: str, action: str, field: str) -> Any:
    return (values.get(block) or {}).get(action, {}).get(field)


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True, slots=True)
class MessageShortcut(Interaction):
    """ "Give kudos for this" on a message."""

    trigger_id: str
    channel_id: str | None
    message_ts: str | None
    author_id: str | None  # who wrote the message
    from_a_bot: bool
    team_domain: str | None  # for a permalink built by hand
    thread_ts: str | None = None  # set when the message is itself a reply in a thread

    @classmethod
    def of(cls, request: BoltRequest) -> MessageShortcut:
        shortcut = request.body
        message = shortcut.get("message") or {}
        bot_user_id = request.context.bot_user_id
        return cls(
            **_who(request.context),
            trigger_id=shortcut["trigger_id"],
            channel_id=(shortcut.get("channel") or {}).get("id"),
            message_ts=shortcut.get("message_ts") or message.get("ts"),
            author_id=message.get("user"),
            # An app's message (it has `bot_id`), a legacy `bot_message`, or one of ours.
            from_a_bot=(
                bool(message.get("bot_id"))
                or message.get("subtype") == "bot_message"
                or (bot_user_id is not None and message.get("user") == bot_user_id)
            ),
            team_domain=(shortcut.get("team") or {}).get("domain"),
            thread_ts=message.get("thread_ts"),
        )


@dataclass(frozen=True, slots=True)
class GiveButton(Interaction):
    """The "Give kudos" button of the morning post or App Home."""

    trigger_id: str
    channel_id: str | None
    principle_key: str | None  # the button's value, when it names a principle

    @classmethod
    def of(cls, request: BoltRequest) -> GiveButton:
        body = request.body
        return cls(
            **_who(request.context),
            trigger_id=body["trigger_id"],
            channel_id=(body.get("channel") or {}).get("id"),
            principle_key=_action(body).get("value") or None,
        )


@dataclass(frozen=True, slots=True)
class ShareToday(Interaction):
    """The "Share in channel" button under `/mission today`'s preview."""

    channel_id: str
    day: str  # the button's value, an ISO date unless the button is out of date
    respond: Respond | None

    @classmethod
    def of(cls, request: BoltRequest) -> ShareToday:
        body = request.body
        return cls(
            **{**_who(request.context), "user_id": body["user"]["id"]},
            channel_id=body["channel"]["id"],
            day=_action(body).get("value") or "",
            respond=request.context.respond,
        )


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    action: dict[str, Any] = actions[0]
    return action


@dataclass(frozen=True, slots=True)
class HomeOpened:
    """Someone opened a tab of the app (`app_home_opened`)."""

    team_id: str
    user_id: str
    tab: str
    client: WebClient
    # The Home Slack showed (sent back once one was published): its metadata and hash.
    private_metadata: str | None = None
    view_hash: str | None = None

    @classmethod
    def of(cls, request: BoltRequest) -> HomeOpened:
        event = request.body["event"]
        view = event.get("view")
        shown = view if isinstance(view, dict) and view.get("type") == "home" else {}
        return cls(
            team_id=team_of(request.context),
            user_id=event["user"],
            tab=event.get("tab", "home"),
            client=request.context.client,
            private_metadata=shown.get("private_metadata") or None,
            view_hash=shown.get("hash") or None,
        )


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A message in a channel the bot is in (`message.channels`, `message.groups`): a new one
    (no subtype: maybe a `kudos …` message), or a change (`message_deleted`, a conversion to
    private or public, …) named by its subtype."""

    team_id: str
    channel_id: str | None
    subtype: str
    user_id: str | None = None
    text: str = ""
    ts: str | None = None
    # Set when the message is a reply in a thread (the thread's first message's ts).
    thread_ts: str | None = None
    # An app's or bot's message (or one of ours): never a kudos.
    from_a_bot: bool = False
    channel_type: str | None = None
    # `message_deleted`: the ts of the message that was deleted.
    deleted_ts: str | None = None
    bot_user_id: str | None = None
    client: WebClient | None = None
    event_ts: str | None = None  # when Slack sent it: a deletion is applied after its post
    workspace_id: str | None = None  # the workspace it was posted in (`T…`)

    @classmethod
    def of(cls, request: BoltRequest) -> MessageEvent:
        event = request.body["event"]
        channel = event.get("channel")
        bot_user_id = request.context.bot_user_id
        user = event.get("user")
        return cls(
            team_id=team_of(request.context),
            channel_id=str(channel) if channel else None,
            subtype=str(event.get("subtype")),
            user_id=str(user) if user else None,
            text=str(event.get("text") or ""),
            ts=event.get("ts"),
            thread_ts=event.get("thread_ts"),
            from_a_bot=(
                bool(event.get("bot_id"))
                or event.get("subtype") == "bot_message"
                or (bot_user_id is not None and user == bot_user_id)
            ),
            channel_type=event.get("channel_type"),
            deleted_ts=event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts"),
            bot_user_id=bot_user_id,
            client=request.context.client,
            event_ts=event.get("event_ts"),
            workspace_id=workspace_of(request.context),
        )


@dataclass(frozen=True, slots=True)
class ReactionEvent:
    """`reaction_added` / `reaction_removed`: who reacted with what, to which item."""

    team_id: str
    user_id: str
    reaction: str
    item_type: str
    channel_id: str | None
    message_ts: str | None
    item_user: str | None  # the item's author; absent for some files and apps' messages
    bot_user_id: str | None
    client: WebClient
    channel_type: str | None = None  # the item's: channel, group, im or mpim (newer payloads)
    event_ts: str | None = None  # when Slack sent it: events about one thing apply in this order

    @classmethod
    def of(cls, request: BoltRequest) -> ReactionEvent:
        event = request.body["event"]
        item = event.get("item") or {}
        return cls(
            team_id=team_of(request.context),
            user_id=str(event.get("user") or ""),
            reaction=str(event.get("reaction") or ""),
            item_type=str(item.get("type") or ""),
            channel_id=item.get("channel"),
            message_ts=item.get("ts"),
            item_user=event.get("item_user"),
            bot_user_id=request.context.bot_user_id,
            client=request.context.client,
            channel_type=item.get("channel_type"),
            event_ts=event.get("event_ts"),
        )


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """A channel shared with another organisation, or no longer shared."""

    team_id: str
    channel_id: str

    @classmethod
    def of(cls, request: BoltRequest) -> ChannelEvent:
        return cls(
            team_id=team_of(request.context),
            channel_id=str(request.body["event"]["channel"]),
        )


@dataclass(frozen=True, slots=True)
class PersonChanged:
    """`user_change` or `team_join`: the whole user object, when the event carries one."""

    team_id: str
    user: dict[str, Any] | None

    @classmethod
    def of(cls, request: BoltRequest) -> PersonChanged:
        user = request.body["event"].get("user")
        if not isinstance(user, dict) or not user.get("id"):
            user = None
        # Not the user's own `team_id`: on Enterprise Grid that is their home workspace, not
        # the installation's team their kudos and allowance are kept under.
        return cls(team_id=team_of(request.context), user=user)


def interaction(
    build: Callable[[BoltRequest], R], listener: Callable[[Ack, R, Services], None]
) -> Callable[[Ack, BoltRequest, Services], None]:
    """`listener(ack, request, services)` as a Bolt listener, its request built by `build`."""

    def run(ack: Ack, request: BoltRequest, services: Services) -> None:
        listener(ack, build(request), services)

    return _named(run, listener)


def event(
    build: Callable[[BoltRequest], R], listener: Callable[[R, Services], None]
) -> Callable[[BoltRequest, Services], None]:
    """`listener(request, services)` as a Bolt event listener, its request built by `build`."""

    def run(request: BoltRequest, services: Services) -> None:
        listener(build(request), services)

    return _named(run, listener)


F = TypeVar("F", bound=Callable[..., Any])


def _named(run: F, listener: Callable[..., Any]) -> F:
    # Bolt and the logs name a listener by its function.
    run.__name__ = listener.__name__
    run.__qualname__ = listener.__qualname__
    run.__doc__ = listener.__doc__
    run.__module__ = listener.__module__
    return run
