"""Settings: read once from the environment (and `.env`), validated, then passed down.

Nothing here runs at import time; `load_settings()` is called by the command line and the
tests build `Settings(...)` directly.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.i18n.catalogs import PSEUDO_LOCALE, SHIPPED_LANGUAGES
from bot.i18n.negotiate import negotiate

README_SLACK_SETUP = "README.md#slack-setup"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_HH_MM = re.compile(r"^(\d{1,2}):(\d{2})$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


def example_mission_file() -> Path:
    return Path(str(resources.files("bot") / "data" / "mission.example.yaml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Seconds to wait for one Web API answer before retrying (or giving up on) the call.
    slack_api_timeout: float = Field(default=10.0, gt=0, le=120)
    # Scales Slack's pace as the bot keeps it (the directory fill, the person checks, a
    # Retry-After) and as the simulator enforces it: 10 runs ten times as fast in the same
    # ratios, for tests and benchmarks. Real Slack needs 1.
    slack_rate_scale: float = Field(default=1.0, gt=0, le=1000)
    # Shortens the time a request waits on Slack before its ack (bot/slack/deadline.py): 2 gives
    # its calls 1 s instead of 2 s and a slow one 0.75 s instead of 1.5 s, and acks by 1.5 s. For
    # tests that sit through slow Slack answers; never longer than Slack allows. Real Slack: 1.
    slack_deadline_scale: float = Field(default=1.0, ge=1, le=10)
    # The outbox (bot/outbox/sender.py): how long a message being sent is leased before
    # another process may send it (unset: three times SLACK_API_TIMEOUT, at least 15 s; it must
    # be longer than SLACK_API_TIMEOUT), and the first retry's wait after a failed send
    # (doubling each time).
    missionbot_outbox_lease_seconds: float | None = Field(default=None, gt=0, le=3600)
    missionbot_outbox_retry_seconds: float = Field(default=2.0, gt=0, le=300)
    database_url: str = "sqlite:///missionbot.db"
    mission_file: Path = Field(default_factory=example_mission_file)
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"
    missionbot_admins: Annotated[frozenset[str], NoDecode] = frozenset()
    server_threads: int = Field(default=8, ge=1, le=256)
    kudos_daily_limit: int = Field(default=5, ge=1, le=1000)
    # Principle of the day: only admins may (un)subscribe channels when restricted; a post
    # missed while the bot was down goes out on start until the cut-off, local time.
    missionbot_restrict_schedule: bool = False
    missionbot_catchup_cutoff: dt.time = dt.time(17, 0)
    missionbot_schedule_refresh_seconds: int = Field(default=60, ge=1, le=3600)
    # Recognition in the conversation; each workspace may change these with `/kudos settings`.
    kudos_reactions: bool = True
    kudos_messages: bool = True
    kudos_trigger_word: str = Field(default="kudos", pattern=r"^[^\s<>&*_~`]{1,32}$")
    # What channels read in, and anyone whose own locale isn't shipped (bot/i18n/); each
    # workspace's managers may change it with `/kudos settings language`.
    missionbot_language: str = "en"
    # The most people a user-group mention may reach in one kudos.
    kudos_group_cap: int = Field(default=25, ge=1, le=500)
    # How long what a reaction or a kudos message gave is held before it is announced, for
    # Slack's undoing that follows right behind it (bot/kudos/ordering.py's SETTLE: 3 s).
    kudos_settle_seconds: float = Field(default=3.0, ge=0, le=60)
    # Newcomers get one principle a working day by DM (bot/daily/drip.py).
    missionbot_onboarding_drip: bool = False
    # App Home publishes a minute per workspace (Slack allows about 100), and how many of
    # them the overnight refresh may use (bot/home/refresh.py).
    missionbot_home_publishes_per_minute: int = Field(default=95, ge=1, le=100_000)
    missionbot_home_refresh_per_minute: int = Field(default=40, ge=1, le=100_000)
    # The dashboard (bot/web/): the address people open it at, where sign-in links point.
    missionbot_public_url: str = "http://localhost:3000"
    # How many user groups a workspace's dashboard counts in tallies of their own (bot/reports/
    # usergroup_tallies.py): each makes every kudos of its members write a few more rows. 0:
    # no new ones (their pages read the raw kudos); lowering it keeps those counted already.
    missionbot_tallied_groups: int = Field(default=20, ge=0, le=1000)
    # Signs the dashboard's session cookies; unset, it is derived from SLACK_SIGNING_SECRET.
    missionbot_dashboard_secret: SecretStr | None = None
    # Sign in with Slack (OpenID Connect) on the dashboard, when both are set.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("missionbot_public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected the dashboard's address, such as https://kudos.example.com")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith(("postgres://", "postgresql://")):
            # psycopg 3 is the driver we ship; plain URLs would ask SQLAlchemy for psycopg2.
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("missionbot_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value == PSEUDO_LOCALE:
            return value
        language = negotiate(value, fallback="")
        if not language:
            raise ValueError(f"must be one of {', '.join(SHIPPED_LANGUAGES)}")
        return language

    @field_validator("missionbot_catchup_cutoff", mode="before")
    @classmethod
    def _cutoff(cls, value: object) -> object:
        if isinstance(value, str):
            match = _HH_MM.match(value.strip())
            if not match or int(match[1]) > 23 or int(match[2]) > 59:
                raise ValueError("expected a local time as HH:MM, such as 17:00")
            return dt.time(int(match[1]), int(match[2]))
        return value

    @field_validator("missionbot_admins", mode="before")
    @classmethod
    def _admins(cls, value: object) -> frozenset[str]:
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = [str(part).strip() for part in value]
        else:
            raise ValueError("expected comma-separated Slack user IDs such as U012AB3CD,U045EF6GH")
        bad = [item for item in items if not _USER_ID.match(item)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a Slack user ID (like U012AB3CD)")
        return frozenset(items)

    @field_validator("missionbot_outbox_lease_seconds")
    @classmethod
    def _lease(cls, value: float | None, info: ValidationInfo) -> float | None:
        timeout = info.data.get("slack_api_timeout")
        if value is not None and timeout is not None and value <= timeout:
            # A send still waiting on Slack would be claimed again: sent twice.
            raise ValueError(f"must be longer than SLACK_API_TIMEOUT ({timeout:g} s)")
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def missing_slack_credentials(self) -> list[str]:
        """The variables still needed to talk to Slack in the configured mode."""
        missing = [] if self.slack_bot_token else ["SLACK_BOT_TOKEN"]
        if not self.socket_mode and not self.slack_signing_secret:
            missing.append("SLACK_SIGNING_SECRET")
        return missing


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per the first bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{variable}: {message}") from None
