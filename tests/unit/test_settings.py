from __future__ import annotations

import pytest

from bot.settings import TELEGRAM_API_URL, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("BOT_TOKEN", "DATABASE_URL", "MODE", "WEBHOOK_URL", "WEBHOOK_SECRET", "PORT",
                 "DEFAULT_TIMEZONE", "LOG_LEVEL", "BOT_API_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_setup_and_use_a_sqlite_file_here(tmp_path):
    settings = load_settings()
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/breakup_coach.sqlite3"
    assert settings.mode == "polling"
    assert settings.bot_api_url == TELEGRAM_API_URL


def test_each_bad_variable_gets_one_clear_line_naming_it(monkeypatch):
    monkeypatch.setenv("MODE", "carrier-pigeon")
    monkeypatch.setenv("PORT", "eighty")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("MODE: must be one of")
    assert lines[1].startswith("PORT:")
    assert (
        lines[2]
        == "DEFAULT_TIMEZONE: 'Mars/Olympus' is not an IANA time zone such as Europe/London"
    )


def test_webhook_mode_refuses_to_start_without_a_secret(monkeypatch):
    monkeypatch.setenv("MODE", "webhook")
    monkeypatch.setenv("WEBHOOK_URL", "https://coach.example.org/telegram")
    with pytest.raises(SettingsError, match=r"^WEBHOOK_SECRET: required when MODE=webhook"):
        load_settings()


def test_a_missing_token_points_to_the_terminal_chat():
    with pytest.raises(SettingsError, match="python -m bot chat"):
        load_settings().require_token()


def test_hosting_style_postgres_urls_get_the_async_driver(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:5432/coach")
    assert load_settings().database_url == "postgresql+asyncpg://u:p@db.internal:5432/coach"


def test_an_unknown_database_is_refused(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(SettingsError, match=r"^DATABASE_URL: must be a sqlite:// or postgresql://"):
        load_settings()


def test_a_self_hosted_bot_api_url_is_accepted_without_its_trailing_slash(monkeypatch):
    monkeypatch.setenv("BOT_API_URL", "http://127.0.0.1:8081/")
    assert load_settings().bot_api_url == "http://127.0.0.1:8081"


def test_a_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("LOG_LEVEL=debug\nBOT_TOKEN=123:abc\n")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.require_token() == "123:abc"
