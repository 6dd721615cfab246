"""The Slack simulator (bot/simulator/) is as hard as Slack where it matters: its rate limits
answer 429 with a whole-seconds Retry-After, per channel for posts, and users.list pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.simulator import RateLimits, SlackSimulator


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_posts_are_limited_to_one_a_second_per_channel() -> None:
    clock = Clock()
    limits = RateLimits(monotonic=clock)
    assert limits.check("chat.postMessage", "C1") is None
    assert limits.check("chat.postMessage", "C1") == 1
    assert limits.check("chat.postMessage", "C2") is None  # another channel has its own second
    clock.now += 1.0
    assert limits.check("chat.postMessage", "C1") is None


def test_users_list_allows_a_short_burst_then_about_twenty_a_minute() -> None:
    clock = Clock()
    limits = RateLimits(monotonic=clock)
    answers = [limits.check("users.list") for _ in range(6)]
    assert answers[:5] == [None] * 5
    assert answers[5] == 3  # a token every 3 s, rounded up to whole seconds
    clock.now += 3.0
    assert limits.check("users.list") is None
    assert limits.check("auth.test") is None  # methods without a limit are never refused


@pytest.fixture
def limited() -> Iterator[SlackSimulator]:
    simulator = SlackSimulator(rate_limits=RateLimits()).start()
    yield simulator
    simulator.stop()


def test_a_refused_call_is_answered_429_with_retry_after_and_recorded_as_failed(
    limited: SlackSimulator,
) -> None:
    client = WebClient(token="xoxb-test", base_url=limited.api_url)
    client.chat_postMessage(channel="C1", text="first")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="second")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["retry-after"] == "1"
    assert [c.failed for c in limited.calls("chat.postMessage")] == [False, True]


def test_users_list_answers_at_most_200_members_a_page(limited: SlackSimulator) -> None:
    for n in range(250):
        limited.users[f"U{n:05d}"] = {"id": f"U{n:05d}"}
    client = WebClient(token="xoxb-test", base_url=limited.api_url)
    first = client.users_list(limit=1000)
    assert len(first["members"]) == 200
    rest = client.users_list(limit=1000, cursor=first["response_metadata"]["next_cursor"])
    assert len(rest["members"]) == 50
    assert rest["response_metadata"]["next_cursor"] == ""
