"""The mission file's languages: `language`, `translations`, and what `mission check` says."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import example_mission_file
from bot.mission.file import (
    MAX_DESCRIPTION_LENGTH,
    MAX_TITLE_LENGTH,
    MissionFileError,
    PrincipleText,
    load_mission_file,
    parse_mission,
)

TRANSLATED = """\
language: en
company: Acme
mission: Make things people love.
translations:
  de: {company: Acme GmbH, mission: "Dinge machen, die Menschen lieben."}
principles:
  - key: care
    title: Care about the customer
    translations:
      de: {title: Kümmere dich um die Kundschaft, description: Wirklich.}
      es: {title: Cuida al cliente}
  - key: ship-it
    title: Ship it
"""


def problems(text: str) -> list[str]:
    with pytest.raises(MissionFileError) as caught:
        parse_mission(text, source="mission.yaml")
    return caught.value.problems


def test_translations_are_read_with_the_files_own_language() -> None:
    document = parse_mission(TRANSLATED, source="mission.yaml")
    assert document.language == "en"
    assert dict(document.translations)["de"].company == "Acme GmbH"
    care = document.principles[0]
    assert dict(care.translations) == {
        "de": PrincipleText("Kümmere dich um die Kundschaft", "Wirklich."),
        "es": PrincipleText("Cuida al cliente", None),
    }


def test_a_missing_translation_is_one_warning_per_principle_and_language() -> None:
    document = parse_mission(TRANSLATED, source="mission.yaml")
    assert document.warnings == (
        "mission.yaml:12: principle 'ship-it' has no 'de' translation",
        "mission.yaml: the mission has no 'es' translation",
        "mission.yaml:12: principle 'ship-it' has no 'es' translation",
    )


def test_mission_check_prints_the_warnings_and_passes(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mission.yaml"  # type: ignore[operator]
    path.write_text(TRANSLATED, encoding="utf-8")
    assert main(["mission", "check", str(path)]) == 0
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "principle 'ship-it' has no 'de' translation" in out
    assert "OK" in out


def test_translations_keep_the_size_limits() -> None:
    long_title = "x" * (MAX_TITLE_LENGTH + 1)
    long_description = "y" * (MAX_DESCRIPTION_LENGTH + 1)
    text = TRANSLATED.replace(
        "es: {title: Cuida al cliente}",
        f"es: {{title: {long_title}, description: {long_description}}}",
    )
    found = problems(text)
    assert any(f"translations: es: title is longer than {MAX_TITLE_LENGTH}" in p for p in found)
    assert any(
        f"translations: es: description is longer than {MAX_DESCRIPTION_LENGTH}" in p for p in found
    )


def test_a_translation_into_a_language_the_bot_doesnt_speak_is_refused() -> None:
    found = problems(TRANSLATED.replace("es: {title: Cuida al cliente}", "tlh: {title: Qapla}"))
    assert found == [
        "mission.yaml:7: principle 1 ('care'): translations: 'tlh' is not a language the bot "
        "speaks (en, de, fr, es, pt_BR, ja)"
    ]


def test_a_title_translation_must_be_one_line_without_control_characters() -> None:
    found = problems(TRANSLATED.replace("{title: Cuida al cliente}", '{title: "Cuida\\u0000"}'))
    assert len(found) == 1
    assert "translations: es: title contains the control character U+0000" in found[0]


def test_right_to_left_text_in_a_translation_is_kept_as_written() -> None:
    # Arabic isn't shipped, but right-to-left marks inside a shipped language's text are kept;
    # the bot escapes them like any text when drawing.
    text = TRANSLATED.replace("Cuida al cliente", "Cuida \u202bal\u202c cliente")
    document = parse_mission(text, source="mission.yaml")
    assert dict(document.principles[0].translations)["es"].title == "Cuida \u202bal\u202c cliente"


def test_the_example_file_is_translated_into_german_and_spanish_without_warnings() -> None:
    document = load_mission_file(example_mission_file())
    assert document.warnings == ()
    assert {code for code, _text in document.translations} == {"de", "es"}
    for principle in document.principles:
        assert {code for code, _text in principle.translations} == {"de", "es"}
