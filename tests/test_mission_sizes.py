"""Missions of 1, 9, 60 and 250 principles: `/mission`, its categories and pages, the kudos
form and its type-ahead menu, and the App Home all stay within Slack's limits, and no
principle is ever left out without saying so."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.blocks.ids import KudosBlock, KudosInput, View
from bot.config import Settings
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import DANA, GIVER, block, kudos_rows, opened_view, submission
from tests.support.missions import (
    CATEGORIES,
    assert_valid_message,
    assert_valid_options,
    assert_valid_view,
    category_of,
    generated_mission,
    principle_key,
)
from tests.support.slack_client import SIGNING_SECRET
from tests.support.stall import stopwatch

# One worker: each generated mission is parsed once in the run (the bot remembers a mission
# text it has read, bot/mission/file.py), where each of six workers parsed each of the 250
# principles' three missions again (0.3-0.7 s of CPU each); tests/conftest.py starts the
# module early.
pytestmark = pytest.mark.xdist_group("mission-sizes")

SIZES = [1, 9, 60, 250]


@pytest.fixture(params=SIZES, ids=[f"{n}-principles" for n in SIZES])
def size(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def categories() -> int:
    return CATEGORIES


@pytest.fixture(scope="session")
def missions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("missions")


@pytest.fixture
def settings(db_url: str, slack: FakeSlack, missions: Path, size: int, categories: int) -> Settings:
    """The served bot's settings, with a generated mission of `size` principles.

    One file per size for the worker's tests: the bot reads a file it has read before from
    memory (bot/mission/file.py), and the 250 principles took PyYAML 0.1 s each time."""
    path = missions / f"mission-{size}-{categories}.yaml"
    if not path.exists():
        path.write_text(generated_mission(size, categories=categories))
    return Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=db_url,
        mission_file=path,
        missionbot_admins=GIVER,
        server_threads=4,
        _env_file=None,  # type: ignore[call-arg]
    )


def keys_in(text: str) -> list[str]:
    return re.findall(r"`#(principle-\d+)`", text)


def expected_categories(size: int, categories: int) -> Counter[str]:
    return Counter(category_of(n, categories) for n in range(1, size + 1))


def list_category(bot: Bot, name: str) -> list[str]:
    """Every key `/mission <name>` lists, following its "next" hints page by page."""
    keys: list[str] = []
    command = f"/mission {name}"
    for _ in range(20):
        reply = bot.command("/mission", command.removeprefix("/mission "))
        assert reply.status == 200
        assert_valid_message(reply.json)
        keys += keys_in(reply.text)
        following = re.search(r"next: `(/mission [^`]+)`", reply.text)
        if following is None:
            return keys
        command = following.group(1)
    raise AssertionError("the pages never ended")


def test_mission_lists_every_principle_or_every_category_with_its_size(
    bot: Bot, size: int, categories: int
) -> None:
    reply = bot.command("/mission")
    assert reply.status == 200
    assert_valid_message(reply.json)
    listed = keys_in(reply.text)
    if size <= 100:
        assert Counter(listed) == Counter(principle_key(n) for n in range(1, size + 1))
        return
    assert listed == []
    counts = {
        name: int(count)
        for name, count in re.findall(r"\*(Category \d+)\* — (\d+) principles?", reply.text)
    }
    assert counts == expected_categories(size, categories)
    assert f"*{size} principles in {categories} categories*" in reply.text
    assert "`/mission <category>` lists a category's principles." in reply.text


@pytest.mark.parametrize("categories", [1, 60], ids=["one-category", "60-categories"])
def test_mission_switches_to_categories_when_the_list_does_not_fit_a_message(
    bot: Bot, size: int, categories: int
) -> None:
    reply = bot.command("/mission")
    assert_valid_message(reply.json)
    grouped = len(reply.json["blocks"])
    if keys_in(reply.text):
        assert Counter(keys_in(reply.text)) == Counter(principle_key(n) for n in range(1, size + 1))
    else:
        shown = re.findall(r"\*(Category \d+)\* — (\d+) principles?", reply.text)
        assert sum(int(count) for _name, count in shown) == size
        assert grouped <= 50


def test_each_category_lists_all_its_principles_page_by_page(
    bot: Bot, size: int, categories: int
) -> None:
    for name, count in expected_categories(size, categories).items():
        keys = list_category(bot, name)
        number = int(name.split()[-1])
        assert keys == [
            principle_key(n) for n in range(1, size + 1) if n % categories + 1 == number
        ]
        assert len(keys) == count


@pytest.mark.parametrize("categories", [1], ids=["one-category"])
def test_a_large_category_is_paged_forty_at_a_time(bot: Bot, size: int) -> None:
    keys = list_category(bot, "category 1")
    assert keys == [principle_key(n) for n in range(1, size + 1)]
    pages = -(-size // 40)
    last = bot.command("/mission", f"Category 1 {pages}").text
    assert f"page {pages} of {pages}" in last or pages == 1
    beyond = bot.command("/mission", f"Category 1 {pages + 1}")
    assert beyond.status == 200
    assert f"*Category 1* has {pages} page" in beyond.text


def test_numbers_keys_and_suggestions_work_at_any_size(bot: Bot, size: int) -> None:
    last = bot.command("/mission", str(size))
    assert_valid_message(last.json)
    assert f"Principle {size} · `#{principle_key(size)}`" in last.text
    assert f"Principle 1 · `#{principle_key(1)}`" in bot.command("/mission", "principle-1").text
    unknown = bot.command("/mission", "no-such-principle")
    assert_valid_message(unknown.json)
    assert "I don't know a principle called `no-such-principle`" in unknown.text
    # Every key while they are few; past that a pointer, not a list clipped mid-key.
    if size <= 30:
        assert f"`#{principle_key(size)}`." in unknown.text
    else:
        assert f"`/mission` lists all {size} principles." in unknown.text


def test_kudos_form_is_valid_and_offers_every_principle(
    bot: Bot, slack: FakeSlack, size: int
) -> None:
    assert bot.command("/kudos").status == 200
    view = opened_view(slack)
    assert_valid_view(view)
    element = block(view, KudosBlock.PRINCIPLE)["element"]
    assert element["action_id"] == KudosInput.PRINCIPLE
    if size <= 100:
        assert element["type"] == "static_select"
        offered = [o["value"] for g in element["option_groups"] for o in g["options"]]
        assert sorted(offered) == sorted(principle_key(n) for n in range(1, size + 1))
    else:
        assert element["type"] == "external_select"
        assert element["min_query_length"] == 0
        assert "options" not in element


def test_kudos_form_preselects_the_named_principle_with_either_menu(
    bot: Bot, slack: FakeSlack, size: int
) -> None:
    bot.command("/kudos", f"#{principle_key(size)}")
    element = block(opened_view(slack), KudosBlock.PRINCIPLE)["element"]
    assert element["initial_option"]["value"] == principle_key(size)
    assert element["initial_option"]["text"]["text"].startswith(f":handshake-{size}: {size}. ")


def suggestion(value: str) -> dict[str, Any]:
    """A block_suggestion payload as Slack sends it while the giver types in the menu."""
    return {
        "type": "block_suggestion",
        "user": {"id": GIVER, "username": "ana", "name": "ana", "team_id": TEAM_ID},
        "container": {"type": "view", "view_id": "V0KUDOS1"},
        "api_app_id": "AMISSIONBOT",
        "token": "legacy-verification-token",
        "action_id": KudosInput.PRINCIPLE,
        "block_id": KudosBlock.PRINCIPLE,
        "value": value,
        "team": {"id": TEAM_ID, "domain": "tidewater"},
        "view": {
            "id": "V0KUDOS1",
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": View.GIVE_KUDOS,
            "private_metadata": json.dumps({"source": "command", "channel": "CGENERAL01"}),
            "blocks": [
                {
                    "type": "input",
                    "block_id": KudosBlock.PRINCIPLE,
                    "label": {"type": "plain_text", "text": "For which principle?"},
                    "optional": False,
                    "element": {
                        "type": "external_select",
                        "action_id": KudosInput.PRINCIPLE,
                        "placeholder": {"type": "plain_text", "text": "Type a principle"},
                        "min_query_length": 0,
                    },
                }
            ],
            "state": {"values": {}},
            "hash": "1700000000.abcdef",
            "title": {"type": "plain_text", "text": "Give kudos"},
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "root_view_id": "V0KUDOS1",
            "app_id": "AMISSIONBOT",
            "external_id": "",
            "app_installed_team_id": TEAM_ID,
            "bot_id": "BMISSIONBOT",
        },
    }


def offered(bot: Bot, typed: str) -> list[str]:
    reply = bot.interaction(suggestion(typed))
    assert reply.status == 200
    options = reply.json["options"]
    assert_valid_options(options)
    return [option["value"] for option in options]


def test_the_menu_search_finds_principles_by_number_key_title_and_category(
    bot: Bot, slack: FakeSlack, size: int, categories: int
) -> None:
    everything = [principle_key(n) for n in range(1, size + 1)]
    assert offered(bot, "") == everything[:100]
    assert offered(bot, str(size))[0] == principle_key(size)
    assert offered(bot, f"#{principle_key(size)}")[0] == principle_key(size)
    assert offered(bot, f"{size}. keep <PROMISES>")[0] == principle_key(size)
    in_category = {
        k for n, k in enumerate(everything, 1) if category_of(n, categories) == "Category 1"
    }
    near = {k for n, k in enumerate(everything, 1) if category_of(n, categories) == "Category 10"}
    found = offered(bot, "category 1")
    assert set(found[: len(in_category | near)]) == in_category | near
    assert offered(bot, "nothing like this") == []


def test_the_menu_answers_from_the_cache_fast_and_without_calling_slack(
    bot: Bot, slack: FakeSlack
) -> None:
    offered(bot, "")  # the first request of a team synchronises the mission
    slack.reset_calls()
    # The code's time, not a busy machine's: tests/support/stall.py (it calls no Slack here).
    with stopwatch() as watch:
        for typed in ("1", "12", "123", "principle", "category 3"):
            offered(bot, typed)
    assert watch.code_time() / 5 < 0.5, watch.describe()
    assert slack.calls() == []


def test_a_principle_chosen_in_the_menu_is_recorded(bot: Bot, slack: FakeSlack, size: int) -> None:
    chosen = offered(bot, str(size))[0]
    payload = submission(slack, recipients=[DANA], principle=chosen, message="kept it")
    values = payload["view"]["state"]["values"]
    values[KudosBlock.PRINCIPLE][KudosInput.PRINCIPLE]["type"] = (
        "external_select" if size > 100 else "static_select"
    )
    assert bot.interaction(payload).status == 200
    [row] = kudos_rows(bot.database)
    with bot.database.transaction() as session:
        from bot.db.models import Principle

        assert session.get(Principle, row.principle_id).key == principle_key(size)  # type: ignore[union-attr]


def test_app_home_stays_within_a_views_limits(bot: Bot, slack: FakeSlack, size: int) -> None:
    bot.event({"type": "app_home_opened", "user": GIVER, "channel": "D1", "tab": "home"})
    call = slack.wait_for("views.publish")[-1]
    view = call["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert_valid_view(view)
    listed = keys_in(json.dumps(view))
    assert listed
    if len(listed) < size:
        assert "`/mission` lists them all." in json.dumps(view)


def test_principle_report_with_every_principle_quiet_stays_within_a_messages_limits(
    bot: Bot, size: int
) -> None:
    reply = bot.command("/kudos", "principles month")
    assert reply.status == 200
    assert_valid_message(reply.json)
    quiet = reply.text.split("*Quiet:*", 1)[1]
    assert all(f"`#{principle_key(n)}`" in quiet for n in range(1, size + 1))  # none clipped
