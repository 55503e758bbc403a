"""The backend's settings: every environment variable it reads is read here, nowhere else."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Development defaults that production must replace (see .env.example, "SAMPLE").
PLACEHOLDER_SECRETS = {"dev-api-token", "dev-rasa-token", "", "changeme"}


class Settings(BaseSettings):
    """Configuration of one backend process, from the environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'api.sqlite3'}"
    api_token: SecretStr = SecretStr("dev-api-token")
    redis_url: str | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_auth_token: SecretStr = SecretStr("dev-rasa-token")
    # The operator file (season dates, calendar overrides); empty = config/operator.yml or the sample.
    operator_config: str | None = None
    # Staff notifications are POSTed here as JSON; empty = they live in the feed only.
    notifier_webhook_url: str | None = None
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = Field(default=30.0, gt=0)
    staff_session_hours: float = Field(default=12.0, gt=0)
    # bcrypt work factor of staff passwords (tests lower it to stay fast).
    password_hash_rounds: int = Field(default=12, ge=4, le=16)
    outbound_timeout_seconds: float = Field(default=5.0, gt=0)
    # The WeChat simulator (fake platform API + chat page under /simulator); never in production.
    simulator_enabled: bool = False
    # The account's settings, which the simulator uses to sign and encrypt like the platform.
    wechat_token: SecretStr = SecretStr("dev-wechat-token")
    wechat_app_id: str = "wx00000000000sample"
    wechat_app_secret: SecretStr = SecretStr("dev-wechat-app-secret")
    wechat_encoding_aes_key: str = ""
    wechat_mode: str = ""
    wechat_menu: str = "config/wechat_menu.yml"

    @field_validator("redis_url", "operator_config", "notifier_webhook_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL with the driver this backend ships (psycopg 3 for PostgreSQL)."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    def check_for_production(self) -> None:
        """Refuse to run in production with the development placeholder secrets."""
        if self.app_env != "production":
            return
        if self.simulator_enabled:
            raise RuntimeError(
                "APP_ENV=production with SIMULATOR_ENABLED: the WeChat simulator is for development only"
            )
        weak = [
            name
            for name, secret in (("API_TOKEN", self.api_token), ("RASA_AUTH_TOKEN", self.rasa_auth_token))
            if secret.get_secret_value() in PLACEHOLDER_SECRETS
        ]
        if weak:
            raise RuntimeError(
                f"APP_ENV=production but {', '.join(weak)} still hold development placeholders; "
                "set real secrets in the environment."
            )


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
