"""The Web API stand-in: Slack's side of the bot's Web API calls, on 127.0.0.1.

A subclass of the simulator (bot/simulator/) that answers from the demo workspace: the
console points `SLACK_API_URL` here, so the bot's own `WebClient` (retries, timeouts and
all) makes every call it would make to Slack. The stand-in answers each method the bot uses
in Slack's shape, from the demo workspace, and keeps what should appear on someone's screen —
a channel post, a DM, an ephemeral message, a reply through a `response_url`, an edit, a modal,
the App Home, a file — as `Shown` items that the console's session takes and draws.

The simulator's server also serves the `response_url`s the console puts in slash commands
and clicks (`/response/<n>`) and the upload URLs of `files.getUploadURLExternal`.

A method the stand-in doesn't know answers `unknown_method`, as Slack does, and is shown, so
a new Web API call in the bot is noticed rather than silently faked.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from bot.console.workspace import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    Workspace,
    dm_id,
    dm_user,
)
from bot.simulator import SlackSimulator


@dataclass
class Shown:
    """Something that appeared on a screen in the workspace."""

    # message · ephemeral · reply · deleted · edit · modal · home · file · reaction · unknown
    kind: str
    channel_id: str | None = None
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ts: str | None = None
    author_id: str = BOT_USER_ID
    # Who alone sees it: an ephemeral message's or a reply's viewer, a Home tab's owner.
    viewer_id: str | None = None
    view: dict[str, Any] | None = None
    # A reply's response_url it came through, and whether it replaced the original.
    response_url: str | None = None
    in_channel: bool = False
    detail: str = ""


class StandIn(SlackSimulator):
    """The simulator answering from the workspace, keeping what appeared on its screens."""

    def __init__(self, workspace: Workspace) -> None:
        # No record of calls: a console session may run for hours.
        super().__init__(record_calls=False)
        self.workspace = workspace
        self._shown: list[Shown] = []
        self._ids = itertools.count(1)
        self.messages: dict[tuple[str, str], Shown] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.upload_names: dict[str, str] = {}
        self._response_targets: dict[str, tuple[str | None, str]] = {}

    def start(self) -> StandIn:
        super().start()
        return self

    def new_response_url(self, channel_id: str | None, user_id: str) -> str:
        """A response_url for a command or click made by `user_id` in `channel_id`."""
        path = f"/response/{next(self._ids)}"
        with self._lock:
            self._response_targets[path] = (channel_id, user_id)
        return self.base_url + path

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    # -- what the session reads --------------------------------------------------------------
    def take(self) -> list[Shown]:
        """What appeared since the last call, in order."""
        with self._lock:
            shown, self._shown = self._shown, []
            return shown

    def remember_message(self, shown: Shown) -> None:
        """A message someone typed (`say`), kept so that shortcuts and reactions can find it."""
        assert shown.channel_id is not None
        assert shown.ts is not None
        with self._lock:
            self.messages[(shown.channel_id, shown.ts)] = shown

    def _show(self, shown: Shown) -> None:
        with self._lock:
            self._shown.append(shown)
            if shown.kind == "message" and shown.channel_id and shown.ts:
                self.messages[(shown.channel_id, shown.ts)] = shown

    # -- the Web API -------------------------------------------------------------------------
    def _unknown(self, method: str) -> dict[str, Any]:
        self._show(Shown("unknown", detail=method))
        return {"ok": False, "error": "unknown_method"}

    def _api_auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "is_enterprise_install": False,
        }

    def _api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user", ""))
        if user_id == BOT_USER_ID:
            return {"ok": True, "user": _bot_user()}
        person = self.workspace.person_by_id(user_id)
        if person is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": person.as_slack_user()}

    def _api_users_list(self, _params: dict[str, Any]) -> dict[str, Any]:
        members = [p.as_slack_user() for p in self.workspace.people] + [_bot_user()]
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def _api_usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.workspace.groups_by_id.get(str(params.get("usergroup", "")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group.member_ids)}

    def _api_usergroups_list(self, _params: dict[str, Any]) -> dict[str, Any]:
        groups = [
            {
                "id": g.id,
                "team_id": TEAM_ID,
                "handle": g.handle,
                "name": g.name,
                "users": list(g.member_ids),
                "user_count": len(g.member_ids),
            }
            for g in self.workspace.groups.values()
        ]
        return {"ok": True, "usergroups": groups}

    def _api_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel", ""))
        channel = self.workspace.channel_by_id(channel_id)
        if channel is not None:
            return {"ok": True, "channel": channel.as_slack_channel()}
        user_id = dm_user(channel_id)
        if user_id is not None and self.workspace.person_by_id(user_id):
            im = {"id": channel_id, "is_im": True, "user": user_id, "is_member": True}
            return {"ok": True, "channel": {**im, "is_channel": False, "is_private": True}}
        return {"ok": False, "error": "channel_not_found"}

    def _api_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if len(users) != 1 or self.workspace.person_by_id(users[0]) is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": dm_id(users[0])}}

    def _api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel_id = self._conversation(str(params.get("channel", "")))
        if channel_id is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = self.next_ts()
        self._show(
            Shown(
                "message",
                channel_id=channel_id,
                text=str(params.get("text") or ""),
                blocks=_json_list(params.get("blocks")),
                ts=ts,
            )
        )
        return {"ok": True, "channel": channel_id, "ts": ts, "message": {"ts": ts}}

    def _api_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel_id = self._conversation(str(params.get("channel", "")))
        if channel_id is None:
            return {"ok": False, "error": "channel_not_found"}
        self._show(
            Shown(
                "ephemeral",
                channel_id=channel_id,
                text=str(params.get("text") or ""),
                blocks=_json_list(params.get("blocks")),
                viewer_id=str(params.get("user") or ""),
            )
        )
        return {"ok": True, "message_ts": self.next_ts()}

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        original = self.messages.get((channel_id, ts))
        if original is None:
            return {"ok": False, "error": "message_not_found"}
        original.text = str(params.get("text") or original.text)
        original.blocks = _json_list(params.get("blocks")) or original.blocks
        self._show(
            Shown(
                "edit",
                channel_id=channel_id,
                text=original.text,
                blocks=original.blocks,
                ts=ts,
            )
        )
        return {"ok": True, "channel": channel_id, "ts": ts}

    def _api_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel, ts = str(params.get("channel", "")), str(params.get("message_ts", ""))
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _api_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """The channel's messages, newest first; `latest` + `inclusive` fetch one by its ts."""
        channel_id = str(params.get("channel", ""))
        if self._conversation(channel_id) is None:
            return {"ok": False, "error": "channel_not_found"}
        latest = str(params.get("latest") or "")
        inclusive = str(params.get("inclusive", "")).lower() in {"1", "true"}
        with self._lock:
            found = [m for (c, _), m in self.messages.items() if c == channel_id]
        if latest:
            found = [m for m in found if m.ts and (m.ts < latest or (inclusive and m.ts == latest))]
        found.sort(key=lambda m: m.ts or "", reverse=True)
        limit = int(params.get("limit") or 100)
        return {
            "ok": True,
            "messages": [_as_message(m) for m in found[:limit]],
            "has_more": len(found) > limit,
        }

    def _api_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """A thread: here only its parent, since nothing in the console replies in threads."""
        channel_id, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        message = self.messages.get((channel_id, ts))
        if message is None:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": [_as_message(message)], "has_more": False}

    def _api_reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("timestamp", ""))
        self._show(Shown("reaction", channel_id=channel, ts=ts, detail=str(params.get("name", ""))))
        return {"ok": True}

    def _api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = {"id": f"V{next(self._ids):08d}", **_json_dict(params.get("view"))}
        view.setdefault("state", {"values": {}})
        with self._lock:
            self.views[view["id"]] = view
        self._show(Shown("modal", view=view))
        return {"ok": True, "view": view}

    def _api_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = str(params.get("view_id") or "")
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        view = {"id": view_id, **_json_dict(params.get("view"))}
        with self._lock:
            self.views[view_id] = view
        self._show(Shown("modal", view=view))
        return {"ok": True, "view": view}

    def _api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user_id") or "")
        view = {"id": f"VHOME{user_id}", **_json_dict(params.get("view"))}
        self._show(Shown("home", viewer_id=user_id, view=view, blocks=view.get("blocks") or []))
        return {"ok": True, "view": view}

    def _api_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        file_id = f"F{next(self._ids):08d}"
        with self._lock:
            self.upload_names[file_id] = str(params.get("filename") or "")
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        files = _json_list(params.get("files"))
        channel_id = self._conversation(str(params.get("channel_id") or "")) or ""
        for item in files:
            file_id = str(item.get("id"))
            self._show(
                Shown(
                    "file",
                    channel_id=channel_id,
                    text=str(params.get("initial_comment") or ""),
                    detail=str(item.get("title") or file_id),
                    # The bytes as uploaded: the console saves them, it never prints them.
                    view={
                        "content": self.uploads.get(file_id, b""),
                        "filename": self.upload_names.get(file_id, ""),
                    },
                )
            )
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _conversation(self, channel: str) -> str | None:
        """A channel ID the workspace has; a user ID means the bot's DM with that person."""
        if self.workspace.channel_by_id(channel) is not None:
            return channel
        user_id = dm_user(channel)
        if user_id is not None and self.workspace.person_by_id(user_id) is not None:
            return dm_id(user_id)
        return None

    def _on_response(self, url: str, params: dict[str, Any]) -> None:
        """A message sent through a response_url: a reply to whoever typed or clicked."""
        in_channel = params.get("response_type") == "in_channel"
        channel_id, user_id = self._response_targets.get(url, (None, ""))
        if _true(params.get("delete_original")):
            self._show(Shown("deleted", channel_id=channel_id, viewer_id=user_id))
            return
        self._show(
            Shown(
                "message" if in_channel else "reply",
                channel_id=channel_id,
                viewer_id=None if in_channel else user_id,
                text=str(params.get("text") or ""),
                blocks=_json_list(params.get("blocks")),
                ts=self.next_ts() if in_channel else None,
                response_url=self.base_url + url,
                in_channel=in_channel,
                detail="replaces the original" if _true(params.get("replace_original")) else "",
            )
        )


def _as_message(shown: Shown) -> dict[str, Any]:
    """A stored message as `conversations.history` lists it."""
    message: dict[str, Any] = {
        "type": "message",
        "user": shown.author_id,
        "text": shown.text,
        "ts": shown.ts,
    }
    if shown.author_id == BOT_USER_ID:
        message["bot_id"] = BOT_ID
    if shown.blocks:
        message["blocks"] = shown.blocks
    return message


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _bot_user() -> dict[str, Any]:
    return {
        "id": BOT_USER_ID,
        "team_id": TEAM_ID,
        "name": BOT_NAME,
        "real_name": BOT_NAME,
        "deleted": False,
        "is_bot": True,
        "is_admin": False,
        "is_owner": False,
        "tz": "UTC",
        "profile": {"display_name": BOT_NAME, "real_name": BOT_NAME, "bot_id": BOT_ID},
    }


def _json_list(value: Any) -> list[dict[str, Any]]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return list(loaded) if isinstance(loaded, list) else []


def _json_dict(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return dict(loaded) if isinstance(loaded, dict) else {}
