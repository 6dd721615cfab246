"""Reading and validating the mission file, and `missionbot mission check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import example_mission_file
from bot.missionfile import MissionFileError, load_mission_file, parse_mission

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
        "mission.yaml: unknown field 'vision' (expected company, mission, principles)",
        "mission.yaml:9: principle 2 ('ship-it'): unknown field 'colour' "
        "(expected category, description, emoji, key, title)",
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
