"""Configuration from the environment and an optional .env file (pydantic-settings)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_FILE = "breakup_coach.sqlite3"
TELEGRAM_API_URL = "https://api.telegram.org"


class Mode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class SettingsError(Exception):
    """One or more settings are wrong; str() is one clear line per bad variable."""


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path.cwd() / DEFAULT_DB_FILE}"


def normalise_database_url(url: str) -> str:
    """Accept the URLs hosting platforms hand out and pick the async drivers we ship."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: str | None = None
    database_url: str = Field(default_factory=default_database_url)
    mode: Mode = Mode.POLLING
    webhook_url: str | None = None
    webhook_secret: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    default_timezone: str = "UTC"
    log_level: LogLevel = LogLevel.INFO
    bot_api_url: str = TELEGRAM_API_URL
    tick_seconds: Annotated[float, Field(ge=1, le=3600)] = 60
    # Scheduled sends (check-ins, follow-ups): with ALLOW_PAID_BROADCAST they go out with
    # allow_paid_broadcast=True, up to 1,000 a second, and Telegram charges Stars per message.
    allow_paid_broadcast: bool = False
    # How long a scheduled send may take before it is "uncertain", and how long a claim is
    # held before it is sent again; the lease must outlast the timeout and the rate limiter's
    # wait, or a slow send that is still being delivered would be sent twice.
    send_timeout_seconds: Annotated[float, Field(ge=1, le=300)] = 20
    send_lease_seconds: Annotated[float, Field(ge=2, le=3600)] = 120

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        value = normalise_database_url(value)
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone such as Europe/London") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("bot_api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("bot_token", "webhook_secret")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        if self.send_lease_seconds <= self.send_timeout_seconds:
            raise ValueError(
                "SEND_LEASE_SECONDS: must be longer than SEND_TIMEOUT_SECONDS, or a slow send "
                "still in flight would be sent again"
            )
        return self

    @model_validator(mode="after")
    def _webhook_needs(self) -> Settings:
        if self.mode is Mode.WEBHOOK:
            if not self.webhook_url:
                raise ValueError("WEBHOOK_URL: required when MODE=webhook")
            if not self.webhook_secret:
                raise ValueError(
                    "WEBHOOK_SECRET: required when MODE=webhook (Telegram sends it back "
                    "in a header so forged updates are refused)"
                )
        return self

    def require_token(self) -> str:
        if not self.bot_token:
            raise SettingsError(
                "BOT_TOKEN: not set. Get one from @BotFather, or try the bot without one: "
                "python -m bot chat"
            )
        return self.bot_token


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = "_".join(str(p) for p in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "enum":
            allowed = item.get("ctx", {}).get("expected", "")
            message = f"must be one of {allowed}"
        lines.append(f"{name}: {message}" if name else message)
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation problems into a SettingsError with one line each."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
