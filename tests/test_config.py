"""Settings: defaults, and one clear line for each bad or missing variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from bot.kudos.ordering import SETTLE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "DATABASE_URL",
        "MISSION_FILE",
        "PORT",
        "LOG_LEVEL",
        "MISSIONBOT_ADMINS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_are_sqlite_port_3000_and_slack_com() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///missionbot.db"
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.mission_file.name == "mission.example.yaml"
    assert settings.socket_mode is False


def test_the_default_hold_of_what_a_reaction_gave_is_the_orderings_settle() -> None:
    # The tests shorten it (conftest.py); a deployment gets ordering.SETTLE unless it says so.
    assert load_settings().kudos_settle_seconds == SETTLE.total_seconds()


def test_dotenv_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=4000\nMISSIONBOT_ADMINS=U01ADMIN, U02BOSS\n")
    settings = load_settings()
    assert settings.port == 4000
    assert settings.missionbot_admins == frozenset({"U01ADMIN", "U02BOSS"})


def test_plain_postgres_urls_use_psycopg_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@db/missionbot")
    assert load_settings().database_url == "postgresql+psycopg://bot@db/missionbot"


def test_an_api_url_gets_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "https://slack-gov.com/api")
    assert load_settings().slack_api_url == "https://slack-gov.com/api/"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PORT", "eighty", "PORT: Input should be a valid integer"),
        ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: expected sqlite:///PATH or postgresql"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL: expected an http(s) URL"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: expected one of DEBUG, INFO"),
        ("MISSIONBOT_ADMINS", "U01OK,ana", "MISSIONBOT_ADMINS: 'ana' is not a Slack user ID"),
        (
            "MISSIONBOT_OUTBOX_LEASE_SECONDS",
            "10",
            "MISSIONBOT_OUTBOX_LEASE_SECONDS: must be longer than SLACK_API_TIMEOUT (10 s)",
        ),
    ],
)
def test_a_malformed_variable_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_the_command_line_reports_a_bad_variable_in_one_line_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "eighty")
    assert main(["serve"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("missionbot: PORT: Input should be a valid integer")
    assert captured.err.count("\n") == 1


def test_serve_without_slack_credentials_says_what_to_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "missionbot: Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for "
        "Socket Mode) in the environment or .env; README.md#slack-setup says where to find them.\n"
    )


@pytest.mark.parametrize("document", ["README.md", ".env.example"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text()
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in text]
    assert missing == []
