"""The three-second rule: every Slack request is acknowledged within 2.5 s, however slow Slack is.

Slack shows the person an error when a command, interaction or event isn't answered within three
seconds, and a `trigger_id` (for `views.open`) dies at the same moment. Two things broke that:

* **Web API calls made before the ack** (users.info, conversations.info, views.open) went
  through the bot's ordinary client, which waits out a 429's Retry-After and retries 5xx and
  timeouts: one slow Slack answer held the request past three seconds. Each request now carries
  a `SlackDeadline` (`context["deadline"]`), started when the request arrived. Its `client`
  gives each call only the time left of its `AckLimits.budget`, never sleeps a Retry-After, and
  retries only a connection that failed outright, once, when a whole call still fits. When
  Slack can't answer in time the call raises `SlackTooSlow`, a `UserError`: the error handler
  answers in the ack with "Slack is slow right now…", and nothing has been changed, because
  every listener asks Slack before it writes. `views.open` always goes through this client,
  even after an ack, because the trigger_id expires with the same three seconds.
* **A listener that raised after `ack()` lost the ack.** Bolt 1.30's `ThreadListenerRunner`
  sets `ack.response` back to None after the error handler has run, so unless the request
  thread had already read the ack it waited out three seconds and Slack got a 404.
  `after_ack_safe` wraps every listener: an error raised after the ack never reaches Bolt; it
  is reported to the person (response_url, else an ephemeral message, else a DM) by
  `bot.slack.errors.report_after_ack`.

Work after the ack uses the ordinary client (Bolt's `client`): it may retry and wait as long as
it needs, and it reports through the response_url.

* **A listener that acked after Bolt stopped waiting lost its answer.** Bolt's HTTP adapter
  waits three seconds for a listener's ack, then answers as if no listener had claimed the
  request (the error handler's "I don't know `/mission`"), and the reply the listener acked
  with later went nowhere, though what the person asked had been done. The error handler now
  tells `LateReply` that Bolt gave up; whichever comes second, that or the listener's end,
  sends the listener's reply through the response_url (valid for 30 minutes).
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from bot.errors import UserError
from bot.i18n.speech import N_
from bot.slack.errors import late_reply_of, report_after_ack

log = logging.getLogger(__name__)

# The context key under which the HTTP adapter notes when a request arrived (on the `AckClock`).
RECEIVED_AT = "received_at"

# The clock a request's three seconds are measured on: seconds, only ever compared with one
# another. `time.monotonic` under `serve`; the tests give one that leaves out the moments a
# busy machine did not let the process run (tests/support/stall.py), so that what a test
# checks is what the code does before its ack, not how loaded the machine was.
AckClock = Callable[[], float]


@dataclass(frozen=True)
class AckLimits:
    """How a request's time before its ack is shared out among its Slack calls."""

    # The rule the others serve: answered within this many seconds of arriving (Slack allows
    # 3 s; the rest is the answer's way back).
    ack: float = 2.5
    # Every Web API call before the ack has answered by then; the rest of `ack` is for the
    # database and the answer.
    budget: float = 2.0
    # The most one call may take, so that a single slow answer leaves time to say so.
    call_timeout: float = 1.5
    # A call isn't started with less time than this left: it could not answer in time.
    min_call_time: float = 0.25

    def faster(self, scale: float) -> AckLimits:
        """The same rule with its waiting `scale` times shorter (SLACK_DEADLINE_SCALE, for
        tests): the budget and a call's timeout shrink, while the time the code itself needs
        (from the budget's end to the ack, the shortest call worth starting) stays Slack's."""
        budget = self.budget / scale
        return AckLimits(
            ack=budget + (self.ack - self.budget),
            budget=budget,
            call_timeout=self.call_timeout / scale,
            min_call_time=self.min_call_time,
        )


# Slack's: what `serve` keeps.
ACK_LIMITS = AckLimits()

# Pause before the one retry of a connection that failed outright.
RETRY_PAUSE = 0.05

SLACK_SLOW = N_(
    ":hourglass: Slack is answering slowly right now, so I stopped before changing anything. "
    "Please try again in a moment."
)
FORM_TOO_LATE = N_(
    ":hourglass: Slack is answering slowly right now, so the kudos form couldn't open in time. "
    "Please try again in a moment."
)


class SlackTooSlow(UserError):
    """Slack didn't answer a call made before the ack in time (slow, 429, 5xx, unreachable)."""

    def __init__(self, method: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(FORM_TOO_LATE if method == "views.open" else SLACK_SLOW)
        self.method = method
        self.reason = reason
        # A 429's Retry-After (Slack's seconds), so the caller may stop asking until then.
        self.retry_after = retry_after


class LateReply:
    """A request whose listener may answer after Bolt stopped waiting for it (see the module).

    Its answer is what it acked with, or, when it raised before acking, the error handler's
    reply. Whichever of the answer and Bolt's giving up comes second sends the answer through
    the response_url, once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._abandoned = False
        self._answer: dict[str, Any] | BoltResponse | None = None
        self._sent = False

    def listener_started(self) -> None:
        with self._lock:
            self._running = True

    def bolt_gave_up(self, context: BoltContext) -> bool:
        """Bolt answered without the ack; True when a listener is at work on the request (its
        answer will follow by the response_url), False when none claimed it."""
        with self._lock:
            if not self._running:
                return False
            self._abandoned = True
        self._send_if_due(context)
        return True

    def answered(self, context: BoltContext, answer: dict[str, Any] | None = None) -> None:
        """The listener's answer: `answer`, else what it acked with (if it acked). Kept as
        it is: it is read only if Bolt has given up, which is rare."""
        kept: dict[str, Any] | BoltResponse | None = answer
        if kept is None and context.ack is not None:
            kept = context.ack.response
        if kept is None:
            return
        with self._lock:
            if self._answer is None:
                self._answer = kept
        self._send_if_due(context)

    def _send_if_due(self, context: BoltContext) -> None:
        with self._lock:
            if self._sent or not self._abandoned or self._answer is None:
                return
            self._sent = True
            answer = self._answer
        message = _message(answer)
        if message is not None:
            _send_late(context, message)


def _message(answer: dict[str, Any] | BoltResponse) -> dict[str, Any] | None:
    """The message in an ack's body or an error handler's payload; None when there is none to
    send (an empty ack, a modal's `response_action`)."""
    payload: Any = answer
    if isinstance(answer, BoltResponse):
        body = answer.body
        try:
            payload = json.loads(body) if body.startswith("{") else {"text": body}
        except ValueError:
            payload = {"text": body}
    if not isinstance(payload, dict) or not (payload.get("text") or payload.get("blocks")):
        return None
    return payload


def _send_late(context: BoltContext, answer: dict[str, Any]) -> None:
    """An answer Bolt stopped waiting for, sent through the response_url; never raises."""
    respond = context.respond
    if respond is None:
        log.warning("an answer came after Bolt's wait, with no response_url to send it by")
        return
    try:
        respond(
            text=answer.get("text", ""),
            blocks=answer.get("blocks"),
            response_type=answer.get("response_type", "ephemeral"),
            replace_original=False,
        )
        log.info("an answer came after Bolt's wait: sent by the response_url")
    except Exception as error:  # a lost answer is logged; nothing may escape a listener
        log.warning("could not send a late answer by the response_url: %s", type(error).__name__)


class SlackDeadline:
    """The time a request has left for Slack calls before its ack, and a client that keeps to it.

    One per request; `client` is made on first use and then used by that request's listener
    thread alone, which is what lets it set its own timeout before each call.
    """

    def __init__(
        self,
        template: WebClient,
        *,
        started: float | None = None,
        limits: AckLimits = ACK_LIMITS,
        clock: AckClock = time.monotonic,
    ) -> None:
        self._template = template
        self._clock = clock
        self.started = clock() if started is None else started
        self.limits = limits
        # When each call through `client` began and ended (the clock's seconds): what the
        # request spent waiting on Slack, so that its time can be told apart from the machine's.
        self.waits: list[tuple[float, float]] = []
        self.late = LateReply()
        self._client: DeadlineClient | None = None

    def now(self) -> float:
        return self._clock()

    def elapsed(self) -> float:
        return self._clock() - self.started

    def remaining(self) -> float:
        return self.limits.budget - self.elapsed()

    @property
    def client(self) -> WebClient:
        """A Web API client for calls made before the ack (and for views.open)."""
        if self._client is None:
            template = self._template
            self._client = DeadlineClient(
                self,
                token=template.token,
                base_url=template.base_url,
                headers=template.headers,
                team_id=template.default_params.get("team_id"),
                logger=template.logger,
            )
        return self._client


def deadline_of(context: Mapping[str, Any]) -> SlackDeadline:
    deadline: SlackDeadline = context["deadline"]
    return deadline


class DeadlineClient(WebClient):
    """A WebClient whose calls end by the deadline: no 429 or 5xx retries, no Retry-After sleeps."""

    def __init__(self, deadline: SlackDeadline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline = deadline
        self.retry_handlers = [_OneQuickRetry(self)]

    def set_call_timeout(self) -> None:
        # slack-sdk types the timeout as int, but urllib takes fractions of a second too.
        self.timeout = min(self.deadline.limits.call_timeout, self.deadline.remaining())  # type: ignore[assignment]

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        stalled_once = False
        while True:
            if self.deadline.remaining() < self.deadline.limits.min_call_time:
                raise self._too_slow(
                    api_method, f"no time left after {self.deadline.elapsed():.1f}s"
                )
            self.set_call_timeout()
            began, wall = self.deadline.now(), time.monotonic()
            try:
                response = super().api_call(api_method, **kwargs)
            except SlackApiError as error:
                status = error.response.status_code
                if status == 429 or status >= 500:
                    retry_after = _retry_after(error.response.headers) if status == 429 else None
                    raise self._too_slow(api_method, f"HTTP {status}", retry_after) from None
                raise
            except (OSError, SlackClientError) as error:
                if not stalled_once and self._stalled(api_method, error, began, wall):
                    stalled_once = True
                    continue
                raise self._too_slow(api_method, type(error).__name__) from None
            finally:
                self.deadline.waits.append((began, self.deadline.now()))
            assert isinstance(response, SlackResponse)
            return response

    def _stalled(self, method: str, error: Exception, began: float, wall: float) -> bool:
        """A call that timed out on the wall clock while most of its wait was the machine's,
        not Slack's (the ack clock, tests/support/stall.py's, left the stalls out): asked once
        more with the time left. Under `serve` both clocks are one, so never; nor views.open,
        whose trigger_id may already have been used."""
        timed_out = isinstance(error, TimeoutError) or (
            isinstance(error, URLError) and isinstance(error.reason, TimeoutError)
        )
        if not timed_out or method == "views.open":
            return False
        waited = time.monotonic() - wall
        return self.deadline.now() - began < waited / 2

    def _too_slow(self, method: str, reason: str, retry_after: float | None = None) -> SlackTooSlow:
        log.warning("slack too slow before the ack: %s %s", method, reason)
        return SlackTooSlow(method, reason, retry_after)


def _retry_after(headers: Any) -> float | None:
    try:
        value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
        return float(value) if value else None
    except (TypeError, ValueError):
        return None


class _OneQuickRetry(ConnectionErrorRetryHandler):
    """One retry of a connection that failed outright, only if a whole call still fits.

    A timeout is never retried: it has already spent the time a retry would need.
    """

    def __init__(self, client: DeadlineClient) -> None:
        super().__init__(
            max_retry_count=1,
            interval_calculator=FixedValueRetryIntervalCalculator(RETRY_PAUSE),
            error_types=[URLError, ConnectionResetError, RemoteDisconnected],
        )
        self._client = client

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if isinstance(error, URLError) and isinstance(error.reason, TimeoutError):
            return False
        fits = self._client.deadline.remaining() >= (
            self._client.deadline.limits.min_call_time + RETRY_PAUSE
        )
        return fits and super()._can_retry(
            state=state, request=request, response=response, error=error
        )

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        super().prepare_for_next_attempt(
            state=state, request=request, response=response, error=error
        )
        self._client.set_call_timeout()


Listener = Callable[..., Any]


def after_ack_safe(listener: Listener) -> Callable[[BoltRequest], Any]:
    """`listener`, with whatever it raises after its ack reported to the person, not to Bolt.

    Errors raised before the ack go on to the one error handler, which answers in the ack.
    Bolt injects arguments by the names in a listener's signature; this wrapper asks for the
    whole `request` and injects the listener's own arguments the same way.
    """
    names = inspect.getfullargspec(listener).args

    def run(request: BoltRequest) -> Any:
        kwargs = build_required_kwargs(
            logger=log,
            required_arg_names=list(names),
            request=request,
            response=None,
            next_keys_required=False,
        )
        context = request.context
        late = late_reply_of(context)
        if late is not None:
            late.listener_started()
        try:
            return listener(**kwargs)
        except Exception as error:
            ack = context.ack
            if ack is None or ack.response is None:
                raise
            report_after_ack(error, request.body, context)
            return None
        finally:
            if late is not None:
                late.answered(context)

    run.__name__ = listener.__name__
    run.__qualname__ = listener.__qualname__
    run.__doc__ = listener.__doc__
    run.__module__ = listener.__module__
    return run
