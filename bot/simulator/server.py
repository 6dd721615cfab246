"""The simulator's server: Slack's routes on 127.0.0.1 (port 0), Slack-shaped answers.

The bot reaches it through SLACK_API_URL. Every call can be recorded (`calls()`), and made as
hard as Slack's: `latency=(low, high)` delays each answer by a random time in that range,
`rate_limits=RateLimits()` refuses calls past Slack's limits with 429 and Retry-After, and
`fail()` scripts failures per method — HTTP 429 with Retry-After, 5xx, or `ok: false` with a
Slack error code, each after an optional delay, for a number of calls or until `recover()`;
`slow(method, seconds)` only delays. It also serves `response_url`s (`/response/<n>`) and file
upload URLs. Subclasses answer a method differently by defining `_api_<method>` (dots as `_`),
and hear replies and uploads through `_on_response` and `_on_upload`.

A method nothing answers gets `{"ok": true}` here (the tests' open world); the console's
stand-in answers `unknown_method`, as Slack does.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from bot.simulator.limits import USERS_LIST_PAGE, RateLimits

BOT_USER_ID = "UMISSIONBOT"
BOT_ID = "BMISSIONBOT"
TEAM_ID = "T0TIDEWATER"
# An App Home view's limits: blocks, and bytes of JSON.
HOME_BLOCKS = 100
VIEW_BYTES = 250_000


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    # Set when a scripted failure answered this call with an error (not when it was only slow).
    failed: bool = False
    # When the answer was sent (time.monotonic()): a slow call is recorded long before.
    answered: float | None = None

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0


def public_channel(channel_id: str, name: str) -> dict[str, Any]:
    """A public channel the bot is a member of, as `conversations.info` describes it."""
    return {
        "id": channel_id,
        "name": name,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": False,
        "is_archived": False,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_member": True,
    }


def default_user(user_id: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": user_id.lower(),
        "real_name": f"User {user_id}",
        "deleted": False,
        "is_bot": False,
        "is_admin": False,
        "is_owner": False,
        "tz": "America/New_York",
        "tz_offset": -18000,
        "profile": {"display_name": user_id.lower(), "real_name": f"User {user_id}"},
    }


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops connections when the bot's many threads call at
    # once; the kernel then retries after a second, which real Slack would never cost.
    request_queue_size = 1024


class SlackSimulator:
    """Slack's Web API, `response_url`s and upload URLs, answered in Slack's shape."""

    def __init__(
        self,
        *,
        latency: tuple[float, float] | None = None,
        rate_limits: RateLimits | None = None,
        record_calls: bool = True,
    ) -> None:
        self.latency = latency
        self.rate_limits = rate_limits
        # Off for a long run (the console, a benchmark): the record would fill memory.
        self.record_calls = record_calls
        self._calls: list[Call] = []
        self._failures: dict[str, list[Failure]] = {}
        # Failures without a count: every call of the method, once its counted ones are used.
        self._standing: dict[str, Failure] = {}
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self.in_flight = 0
        self.last_call = time.monotonic()
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        # Each user's published App Home (views.publish), as Slack keeps it.
        self.homes: dict[str, dict[str, Any]] = {}
        # User groups (`usergroups.users.list`): group ID → member IDs.
        self.usergroups: dict[str, list[str]] = {}
        # Thread replies: a reply's ts → its thread's ts (reflected in chat.getPermalink).
        self.thread_of: dict[str, str] = {}
        self.socket_mode_url: str | None = None
        # Fields that replace auth.test's answer (e.g. an org-wide Enterprise Grid install).
        self.auth_test: dict[str, Any] = {}
        # The workspaces an org-wide install was added to (`auth.teams.list`).
        self.org_teams: list[str] = []
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval so that stop() returns at once rather than after 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-simulator",
            daemon=True,
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> SlackSimulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base_url}/response/{name}"

    # -- scripting -------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        delay: float = 0.0,
    ) -> None:
        """Make the next `times` calls of `method` (all, if None) fail as described.

        A `delay` alone makes the calls slow: they answer normally, late.
        """
        failure = Failure(status, error, retry_after, delay)
        with self._lock:
            if times is None:
                self._standing[method] = failure
            else:
                self._failures.setdefault(method, []).extend(failure for _ in range(times))

    def slow(self, method: str, seconds: float, *, times: int | None = None) -> None:
        """Answer the next `times` calls of `method` (all, if None) after `seconds`."""
        self.fail(method, delay=seconds, times=times)

    def recover(self, method: str | None = None) -> None:
        """Forget the scripted failures (of one method, or all): Slack is healthy again."""
        with self._lock:
            if method is None:
                self._failures.clear()
                self._standing.clear()
            else:
                self._failures.pop(method, None)
                self._standing.pop(method, None)

    def add_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        user = default_user(user_id)
        user.update(fields)
        self.users[user_id] = user
        return user

    # -- assertions ------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    # -- serving ---------------------------------------------------------------------------
    def _record(self, call: Call) -> Failure | None:
        """Keep the call (unless `record_calls` is off); the failure it is answered with."""
        with self._lock:
            if self.record_calls:
                self._calls.append(call)
            self._lock.notify_all()
            queue = self._failures.get(call.method)
            failure = queue.pop(0) if queue else self._standing.get(call.method)
        if failure is None and self.rate_limits is not None:
            retry_after = self.rate_limits.check(call.method, str(call.params.get("channel", "")))
            if retry_after is not None:
                failure = Failure(status=429, error="ratelimited", retry_after=retry_after)
        call.failed = failure is not None and (failure.status != 200 or bool(failure.error))
        return failure

    def quiet_for(self) -> float:
        """Seconds since the last call ended (0 while one is being answered)."""
        with self._lock:
            return 0.0 if self.in_flight else time.monotonic() - self.last_call

    def _on_response(self, path: str, params: dict[str, Any]) -> None:
        """A message sent through a response_url (`/response/<n>`): subclasses show it."""

    def _on_upload(self, file_id: str, content: bytes) -> None:
        self.uploads[file_id] = content

    def _unknown(self, method: str) -> dict[str, Any]:
        return {"ok": True}

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(
            self, "_api_" + method.replace(".", "_"), None
        )
        return handler(params) if handler else self._unknown(method)

    def next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _api_auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://tidewater.slack.com/",
            "team": "Tidewater",
            "user": "missionbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            **self.auth_test,
        }

    def _api_auth_teams_list(self, _params: dict[str, Any]) -> dict[str, Any]:
        teams = [{"id": team, "name": team.lower()} for team in self.org_teams]
        return {"ok": True, "teams": teams, "response_metadata": {"next_cursor": ""}}

    def _api_apps_connections_open(self, _params: dict[str, Any]) -> dict[str, Any]:
        if self.socket_mode_url is None:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_mode_url}

    def _api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = params.get("channel")
        known = self.channels.get(str(channel))
        if known is not None and known.get("is_archived"):
            return {"ok": False, "error": "is_archived"}
        if known is not None and not known.get("is_member", True):
            # As Slack answers: a private channel the bot isn't in doesn't exist for it.
            error = "channel_not_found" if known.get("is_private") else "not_in_channel"
            return {"ok": False, "error": error}
        return {"ok": True, "channel": channel, "ts": self.next_ts(), "message": params}

    def _api_chat_postEphemeral(self, _params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"ok": True, "message_ts": self.next_ts()}

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}

    def _api_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel, ts = params.get("channel", ""), str(params.get("message_ts", ""))
        link = f"https://tidewater.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        if ts in self.thread_of:
            # As Slack links a reply: to its thread, naming the thread and the channel.
            link += f"?thread_ts={self.thread_of[ts]}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _api_reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("name") or not params.get("timestamp"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _org_token_without_team(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """As Slack answers an org-wide install's token calling a method about one workspace
        (user groups) without naming it: "team_id … required if org token is used"."""
        if self.auth_test.get("is_enterprise_install") is True and not params.get("team_id"):
            return {"ok": False, "error": "missing_argument"}
        return None

    def _api_usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        refused = self._org_token_without_team(params)
        if refused is not None:
            return refused
        group = self.usergroups.get(str(params.get("usergroup", "")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group)}

    def _api_usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        refused = self._org_token_without_team(params)
        if refused is not None:
            return refused
        team = str(params.get("team_id") or TEAM_ID)
        groups = [
            {"id": group_id, "team_id": team, "handle": group_id.lower(), "name": group_id}
            | ({"users": list(members)} if params.get("include_users") else {})
            | {"user_count": len(members)}
            for group_id, members in self.usergroups.items()
        ]
        return {"ok": True, "usergroups": groups}

    def _api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user", "")
        user = self.users.get(user_id)
        if user is None and not user_id.startswith("UNKNOWN"):
            user = default_user(user_id)
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": _asked_locale(user, params)}

    def _api_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """The known users a page at a time, by ID, with Slack's cursor: `user:<next ID>` in
        base64, so someone removed meanwhile shifts nobody else; a cursor that isn't one is
        `invalid_cursor`, as Slack answers."""
        ids = sorted(self.users)
        start = 0
        if params.get("cursor"):
            after = _cursor_user(str(params["cursor"]))
            if after is None:
                return {"ok": False, "error": "invalid_cursor"}
            start = bisect.bisect_left(ids, after)
        limit = min(int(params.get("limit") or USERS_LIST_PAGE), USERS_LIST_PAGE)
        page = [_asked_locale(self.users[uid], params) for uid in ids[start : start + limit]]
        following = ids[start + limit] if start + limit < len(ids) else None
        cursor = users_cursor(following) if following else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _api_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = params.get("channel", "")
        known = self.channels.get(channel_id)
        if known is None and channel_id.startswith("D"):
            # A DM between two people is invisible to the bot.
            return {"ok": False, "error": "channel_not_found"}
        if known is not None and known.get("is_private") and not known.get("is_member", True):
            # As Slack answers: a private channel the bot isn't in doesn't exist for it.
            return {"ok": False, "error": "channel_not_found"}
        # Unless a test says otherwise, a public channel the bot is in, as Slack describes it.
        channel = public_channel(channel_id, channel_id.lower())
        channel.update(known or {})
        return {"ok": True, "channel": channel}

    def _api_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.replace(",", "")[:20]}}

    def _api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V" + str(next(self._ts)), **_json(params["view"])}}

    _api_views_update = _api_views_open

    def _api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """As Slack publishes a Home: kept per user (sent back by `home_opened`), with a new
        `hash` each time; a stale `hash` is a `hash_conflict`, a view over Slack's limits is
        refused (100 blocks, 250 kB)."""
        view = _json(params["view"])
        user_id = str(params.get("user_id", ""))
        if len(view.get("blocks") or []) > HOME_BLOCKS:
            return {"ok": False, "error": "invalid_arguments"}
        if len(json.dumps(view).encode()) > VIEW_BYTES:
            return {"ok": False, "error": "view_too_large"}
        with self._lock:
            current = self.homes.get(user_id)
            if params.get("hash") and current is not None and params["hash"] != current["hash"]:
                return {"ok": False, "error": "hash_conflict"}
            number = next(self._ts)
            published = {
                **view,
                "id": current["id"] if current else f"V{number}",
                "hash": f"{number}.{user_id}",
                "private_metadata": view.get("private_metadata") or "",
            }
            self.homes[user_id] = published
        return {"ok": True, "view": published}

    def home_opened(self, user_id: str, *, tab: str = "home") -> dict[str, Any]:
        """The `app_home_opened` event Slack sends when `user_id` opens the tab: with the Home
        last published for them, once there is one."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D" + user_id[1:],
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        with self._lock:
            home = self.homes.get(user_id)
        if home is not None:
            event["view"] = dict(home)
        return event

    def _api_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        file_id = f"F{next(self._ts)}"
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        files = _json(params.get("files", "[]"))
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                with simulator._lock:
                    simulator.in_flight += 1
                try:
                    self._post()
                finally:
                    with simulator._lock:
                        simulator.in_flight -= 1
                        simulator.last_call = time.monotonic()
                        simulator._lock.notify_all()

            def _post(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:
                    # The client went away mid-request (a process killed while sending):
                    # Slack never acts on half a request, so it is neither recorded nor
                    # answered (the kill -9 test once counted a body-less chat.postMessage).
                    self.close_connection = True
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path.startswith("/upload/"):
                    file_id = self.path.rsplit("/", 1)[1]
                    simulator._on_upload(file_id, raw)
                    simulator._record(Call("upload", {"file_id": file_id}, headers))
                    self._send(200, b"OK", "text/plain")
                    return
                params = _parse(raw, headers.get("content-type", ""))
                if self.path.startswith("/response/"):
                    method = "response_url"
                    params["_url"] = self.path
                elif self.path.startswith("/api/"):
                    method = self.path[len("/api/") :].split("?")[0]
                else:
                    self._send(404, b"not found", "text/plain")
                    return
                call = Call(method, params, headers)
                failure = simulator._record(call)
                if simulator.latency is not None:
                    time.sleep(random.uniform(*simulator.latency))
                if failure is not None:
                    time.sleep(failure.delay)
                call.answered = time.monotonic()
                if failure is not None and failure.status == 200 and failure.error is None:
                    failure = None  # only slow: answers normally, late
                if failure is not None:
                    if failure.status != 200:
                        extra = {}
                        if failure.retry_after is not None:
                            extra["Retry-After"] = str(failure.retry_after)
                        body = json.dumps({"ok": False, "error": failure.error or "ratelimited"})
                        self._send(failure.status, body.encode(), "application/json", extra)
                        return
                    body = json.dumps({"ok": False, "error": failure.error})
                    self._send(200, body.encode(), "application/json")
                    return
                if method == "response_url":
                    simulator._on_response(self.path, params)
                    self._send(200, b"ok", "text/plain")
                    return
                answer = simulator._answer(method, params)
                self._send(200, json.dumps(answer).encode(), "application/json")

            def _send(
                self, status: int, body: bytes, kind: str, extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                # A slow answer the bot stopped waiting for has nobody left to read it.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        return Handler


def users_cursor(user_id: str) -> str:
    """The cursor of the `users.list` page that starts at `user_id`, spelt as Slack spells it."""
    return base64.b64encode(f"user:{user_id}".encode()).decode()


def _cursor_user(cursor: str) -> str | None:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded.removeprefix("user:") if decoded.startswith("user:") else None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        return json.loads(text or "{}")
    params: dict[str, Any] = dict(parse_qsl(text, keep_blank_values=True))
    for key in ("blocks", "view", "attachments"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _asked_locale(user: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Slack describes a user's `locale` only to a caller that sets `include_locale=true`."""
    if str(params.get("include_locale", "")).lower() in {"true", "1"}:
        return user
    return {name: value for name, value in user.items() if name != "locale"}
