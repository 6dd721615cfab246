"""Reading and validating the mission file, and `missionbot mission check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import example_mission_file
from bot.mission.file import (
    MAX_CATEGORY_LENGTH,
    MAX_COMPANY_LENGTH,
    MAX_EMOJI_LENGTH,
    MAX_KEY_LENGTH,
    MAX_PRINCIPLES,
    MAX_TITLE_LENGTH,
    MissionFileError,
    load_mission_file,
    parse_mission,
)
from tests.support.missions import generated_mission

VALID = """\
company: Acme
mission: Make things people love.
principles:
  - key: care
    title: Care about the customer
    category: Easy
    emoji: ":heart:"
  - key: ship-it
    title: Ship it
"""


def problems(text: str) -> list[str]:
    with pytest.raises(MissionFileError) as caught:
        parse_mission(text, source="mission.yaml")
    return caught.value.problems


def test_the_shipped_example_is_valid_and_grouped_in_three_categories() -> None:
    document = load_mission_file(example_mission_file())
    assert document.company == "Tidewater Freight"
    assert len(document.principles) == 9
    assert [p.category for p in document.principles[::3]] == ["Easy", "Recognize", "Solve"]
    assert len({p.key for p in document.principles}) == 9


def test_a_valid_file_keeps_order_and_optional_fields() -> None:
    document = parse_mission(VALID)
    assert [p.key for p in document.principles] == ["care", "ship-it"]
    assert document.principles[0].emoji == ":heart:"
    assert document.principles[1].category is None


def test_duplicate_keys_name_the_principle_and_its_line() -> None:
    text = VALID + "  - key: care\n    title: Care again\n"
    assert problems(text) == [
        "mission.yaml:10: principle 3 ('care'): duplicate key 'care' (first used by principle 1)"
    ]


def test_an_empty_title_is_rejected() -> None:
    text = VALID.replace("title: Ship it", 'title: "  "')
    assert problems(text) == ["mission.yaml:8: principle 2 ('ship-it'): title must not be empty"]


@pytest.mark.parametrize("key", ["Has Caps", "under_score", "3d", "-lead", "trail-", ""])
def test_keys_that_are_not_slugs_are_rejected(key: str) -> None:
    found = problems(VALID.replace("key: ship-it", f"key: '{key}'"))
    assert len(found) == 1
    assert "key must be a slug" in found[0]
    assert found[0].startswith("mission.yaml:8: principle 2")


def test_unknown_fields_are_named_at_both_levels() -> None:
    text = VALID.replace("company: Acme", "company: Acme\nvision: big") + "    colour: red\n"
    assert problems(text) == [
        "mission.yaml: unknown field 'vision' "
        "(expected company, language, mission, principles, translations)",
        "mission.yaml:9: principle 2 ('ship-it'): unknown field 'colour' "
        "(expected aliases, category, description, emoji, key, title, translations)",
    ]


def test_yaml_syntax_errors_give_the_line() -> None:
    found = problems("mission: Make things\nprinciples: [\n  - key: a\n")
    assert len(found) == 1
    assert found[0].startswith("mission.yaml:3: YAML syntax error:")


def test_missing_statement_and_principles_are_reported_together() -> None:
    assert problems("company: Acme\n") == [
        "mission.yaml: 'mission' must be the mission statement, a non-empty text",
        "mission.yaml: 'principles' must be a non-empty list",
    ]


def test_mission_check_prints_a_summary_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mission.yaml"
    path.write_text(VALID)
    assert main(["mission", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        out
        == f"{path}: OK. Acme: mission statement of 24 characters, 2 principles in 1 categories.\n"
    )


def test_mission_check_rejects_a_broken_file_with_one_line_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mission.yaml"
    path.write_text(VALID.replace("title: Ship it", "title: ''"))
    assert main(["mission", "check", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{path}:8: principle 2 ('ship-it'): title must not be empty"
    ]


def test_mission_check_of_a_missing_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mission", "check", str(tmp_path / "nope.yaml")]) == 1
    assert capsys.readouterr().err == f"{tmp_path / 'nope.yaml'}: file not found\n"


# -- the limits the bot relies on -------------------------------------------------------------


def test_the_largest_mission_allowed_passes_mission_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mission.yaml"
    path.write_text(generated_mission(MAX_PRINCIPLES, longest=True))
    assert main(["mission", "check", str(path)]) == 0
    assert f"{MAX_PRINCIPLES} principles in 10 categories" in capsys.readouterr().out


def test_more_principles_than_allowed_are_refused_at_the_first_one_too_many() -> None:
    text = generated_mission(MAX_PRINCIPLES + 1)
    line = next(
        n
        for n, row in enumerate(text.splitlines(), start=1)
        if row == f"- key: principle-{MAX_PRINCIPLES + 1}"
    )
    assert problems(text) == [
        f"mission.yaml:{line}: principle {MAX_PRINCIPLES + 1}: there are "
        f"{MAX_PRINCIPLES + 1} principles; at most {MAX_PRINCIPLES} are allowed"
    ]


OVER_THE_LIMITS = [
    (
        "company: Acme",
        f"company: {'A' * (MAX_COMPANY_LENGTH + 1)}",
        f"mission.yaml: 'company' is longer than {MAX_COMPANY_LENGTH} characters",
    ),
    (
        "company: Acme",
        'company: "Ac\\0me"',
        "mission.yaml: 'company' contains the control character U+0000 at character 3; remove it",
    ),
    (
        "company: Acme",
        'company: "Acme\\nInc"',
        "mission.yaml: 'company' must be one line (U+000A at character 5)",
    ),
    (
        "mission: Make things people love.",
        'mission: "Make things\\x07 people love."',
        "mission.yaml: 'mission' contains the control character U+0007 at character 12; remove it",
    ),
    (
        "key: ship-it",
        f"key: {'s' * (MAX_KEY_LENGTH + 1)}",
        "mission.yaml:8: principle 2 ('sssssssssssssssssssssssssssssssssssssssss'): key must "
        "be a slug of lowercase letters, digits and hyphens, starting with a letter, at most "
        "40 characters (like 'own-the-outcome')",
    ),
    (
        "title: Ship it",
        f"title: {'T' * (MAX_TITLE_LENGTH + 1)}",
        "mission.yaml:8: principle 2 ('ship-it'): title must be one line of at most "
        f"{MAX_TITLE_LENGTH} characters",
    ),
    (
        "title: Ship it",
        'title: "Ship\\0it"',
        "mission.yaml:8: principle 2 ('ship-it'): title contains the control character U+0000 "
        "at character 5; remove it",
    ),
    (
        "title: Ship it",
        'title: "Ship\\tit"',
        "mission.yaml:8: principle 2 ('ship-it'): title must be one line (U+0009 at character 5)",
    ),
    (
        "title: Ship it",
        'title: "Ship \\ud800it"',
        "mission.yaml:8: principle 2 ('ship-it'): title contains the control character U+D800 "
        "at character 6; remove it",
    ),
    (
        "category: Easy",
        f"category: {'C' * (MAX_CATEGORY_LENGTH + 1)}",
        f"mission.yaml:4: principle 1 ('care'): category is longer than "
        f"{MAX_CATEGORY_LENGTH} characters",
    ),
    (
        "category: Easy",
        'category: "Ea\\u2028sy"',
        "mission.yaml:4: principle 1 ('care'): category must be one line (U+2028 at character 3)",
    ),
    (
        "category: Easy",
        "category: Ship it",
        "mission.yaml:4: principle 1 ('care'): category 'Ship it' is the title of principle 2, "
        "and `/mission Ship it` shows a principle before a category; rename the category",
    ),
    (
        "category: Easy",
        "category: CARE",
        "mission.yaml:4: principle 1 ('care'): category 'CARE' is the key of principle 1, "
        "and `/mission CARE` shows a principle before a category; rename the category",
    ),
    (
        "category: Easy",
        "category: '2'",
        "mission.yaml:4: principle 1 ('care'): category '2' is a number, "
        "and `/mission 2` shows a principle before a category; rename the category",
    ),
    (
        'emoji: ":heart:"',
        f"emoji: ':{'h' * (MAX_EMOJI_LENGTH - 1)}:'",
        f"mission.yaml:4: principle 1 ('care'): emoji is longer than {MAX_EMOJI_LENGTH} characters",
    ),
    (
        'emoji: ":heart:"',
        'emoji: ":heart:"\n    description: "Mind the\\0 customer"',
        "mission.yaml:4: principle 1 ('care'): description contains the control character "
        "U+0000 at character 9; remove it",
    ),
]


@pytest.mark.parametrize(("before", "after", "expected"), OVER_THE_LIMITS)
def test_what_the_bot_cannot_store_or_show_is_refused_with_one_line(
    before: str, after: str, expected: str
) -> None:
    assert before in VALID
    assert problems(VALID.replace(before, after, 1)) == [expected]


def test_a_long_title_that_slack_clips_is_kept_whole() -> None:
    title = "T" * MAX_TITLE_LENGTH
    document = parse_mission(VALID.replace("title: Ship it", f"title: {title}"))
    assert document.principles[1].title == title


def test_descriptions_and_the_statement_may_span_lines() -> None:
    text = VALID.replace("mission: Make things people love.", 'mission: "Make\\n\\tthings"')
    assert parse_mission(text).statement == "Make\n\tthings"


def test_aliases_are_more_reactions_for_a_principle() -> None:
    text = VALID.replace('emoji: ":heart:"', "emoji: ':heart:'\n    aliases: [':hugging_face:']")
    document = parse_mission(text)
    assert document.principles[0].reactions == (":heart:", ":hugging_face:")


def test_an_emoji_two_principles_share_is_warned_of_and_the_file_still_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID + '    aliases: [":rocket:", ":heart:"]\n'
    document = parse_mission(text, source="mission.yaml")
    assert [p.key for p in document.principles] == ["care", "ship-it"]
    assert document.warnings == (
        "mission.yaml:8: principle 'ship-it': emoji :heart: also belongs to principle 'care'; "
        "a reaction can mean only one principle, so it gives no kudos until each has its own",
    )
    path = tmp_path / "mission.yaml"
    path.write_text(text)
    assert main(["mission", "check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "OK" in out
    assert err.startswith(f"warning: {path}:8: principle 'ship-it': emoji :heart: also")


@pytest.mark.parametrize("aliases", ["[heart]", "[':no spaces:']", "{a: b}", "[1]"])
def test_aliases_that_are_no_emoji_codes_are_refused(aliases: str) -> None:
    [problem] = problems(VALID + f"    aliases: {aliases}\n")
    assert "principle 2 ('ship-it'): ali" in problem
