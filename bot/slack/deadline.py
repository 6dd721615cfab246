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
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError

from slack_bolt import BoltRequest
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
from bot.slack.errors import report_after_ack

log = logging.getLogger(__name__)

# The context key under which the HTTP adapter notes when a request arrived (time.monotonic()).
RECEIVED_AT = "received_at"


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._template = template
        self._clock = clock
        self.started = clock() if started is None else started
        self.limits = limits
        # When each call through `client` began and ended (the clock's seconds): what the
        # request spent waiting on Slack, so that its time can be told apart from the machine's.
        self.waits: list[tuple[float, float]] = []
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
        if self.deadline.remaining() < self.deadline.limits.min_call_time:
            raise self._too_slow(api_method, f"no time left after {self.deadline.elapsed():.1f}s")
        self.set_call_timeout()
        began = self.deadline.now()
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429 or status >= 500:
                retry_after = _retry_after(error.response.headers) if status == 429 else None
                raise self._too_slow(api_method, f"HTTP {status}", retry_after) from None
            raise
        except (OSError, SlackClientError) as error:
            raise self._too_slow(api_method, type(error).__name__) from None
        finally:
            self.deadline.waits.append((began, self.deadline.now()))
        assert isinstance(response, SlackResponse)
        return response

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
        try:
            return listener(**kwargs)
        except Exception as error:
            ack = request.context.ack
            if ack is None or ack.response is None:
                raise
            report_after_ack(error, request.body, request.context)
            return None

    run.__name__ = listener.__name__
    run.__qualname__ = listener.__qualname__
    run.__doc__ = listener.__doc__
    run.__module__ = listener.__module__
    return run
