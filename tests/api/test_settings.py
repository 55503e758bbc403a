"""Settings: production refuses placeholder secrets; PostgreSQL URLs get the shipped driver."""

import pytest

from api.settings import Settings


def test_production_refuses_development_placeholder_token() -> None:
    settings = Settings(app_env="production", api_token="dev-api-token", rasa_auth_token="a-real-secret-1")
    with pytest.raises(RuntimeError, match="API_TOKEN"):
        settings.check_for_production()


def test_production_with_real_secrets_starts() -> None:
    Settings(
        app_env="production", api_token="Zq8v-3kLw9pT2mXc", rasa_auth_token="R7n1-yH4sQe6uB0d"
    ).check_for_production()


@pytest.mark.parametrize("token", ["a", "s3cret-x", "dev-api-token-but-longer"])
def test_production_refuses_short_or_sample_tokens(token: str) -> None:
    with pytest.raises(RuntimeError, match="API_TOKEN"):
        Settings(app_env="production", api_token=token, rasa_auth_token="R7n1-yH4sQe6uB0d").check_for_production()


def test_development_accepts_placeholders() -> None:
    Settings(app_env="development", api_token="dev-api-token").check_for_production()


@pytest.mark.parametrize("url", ["postgresql://u@h:5432/db", "postgres://u@h:5432/db"])
def test_postgres_url_uses_psycopg3(url: str) -> None:
    assert Settings(database_url=url).sqlalchemy_url == "postgresql+psycopg://u@h:5432/db"


def test_an_empty_optional_setting_means_unset() -> None:
    assert Settings(notifier_webhook_url="").notifier_webhook_url is None


def test_the_clock_moved_ahead_for_a_test_is_refused_in_production() -> None:
    settings = Settings(
        app_env="production", api_token="Zq8v-3kLw9pT2mXc", rasa_auth_token="R7n1-yH4sQe6uB0d", clock_offset_seconds=60
    )
    with pytest.raises(RuntimeError, match="CLOCK_OFFSET_SECONDS"):
        settings.check_for_production()
    with pytest.raises(ValueError, match="clock_offset_seconds"):
        Settings(clock_offset_seconds=-1)


def test_a_clock_moved_ahead_moves_what_the_backend_counts_from(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from api.db import upgrade_database
    from api.main import create_app

    url = f"sqlite:///{tmp_path}/api.sqlite3"
    upgrade_database(url)
    fixed = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
    app = create_app(Settings(database_url=url, clock_offset_seconds=1500), clock=lambda: fixed)
    assert app.state.clock() == fixed + timedelta(minutes=25)
    assert create_app(Settings(database_url=url), clock=lambda: fixed).state.clock() == fixed
