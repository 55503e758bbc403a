"""The backend's settings: every environment variable it reads is read here, nowhere else."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from policies.secrets import MIN_SECRET_LENGTH, weak_secret

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of one backend process, from the environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'api.sqlite3'}"
    api_token: SecretStr = SecretStr("dev-api-token")
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
    # How far back staff may date an action they record (respond, arrive ...); beyond it deadlines and
    # KPIs count the entry time. A supervisor may go back further, with a reason, up to the limit.
    backdate_window_minutes: float = Field(default=15.0, ge=0, le=24 * 60)
    supervisor_backdate_hours: float = Field(default=72.0, ge=0, le=24 * 31)
    # This long after the bot filed an order, the backend looks whether the conversation says its number
    # and sends it through the bot when not (the bot stopped before answering); 0 = never.
    filed_number_check_seconds: float = Field(default=120.0, ge=0, le=24 * 3600)
    # Staff logins (docs/security.md, "Logins"): failures counted over this window. This many for one
    # username from one address lock that pair; this many from one address (any usernames), or for one
    # username from anywhere, leave only the addresses an account logged in from within
    # login_usual_address_days free to try it.
    login_window_minutes: float = Field(default=15.0, gt=0)
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=30, ge=1)
    login_failures_per_account_anywhere: int = Field(default=50, ge=1)
    login_usual_address_days: float = Field(default=30.0, gt=0)
    # The console's cookies travel over HTTPS only (always so in production, which runs behind TLS).
    console_secure_cookie: bool = False
    # The WeChat simulator (fake platform API + chat page under /simulator); never in production.
    simulator_enabled: bool = False
    # The account's settings, which the simulator uses to sign and encrypt like the platform.
    wechat_token: SecretStr = SecretStr("dev-wechat-token")
    wechat_app_id: str = "wx00000000000sample"
    wechat_app_secret: SecretStr = SecretStr("dev-wechat-app-secret")
    wechat_encoding_aes_key: str = ""
    wechat_mode: str = ""
    wechat_menu: str = "config/wechat_menu.yml"
    # Tests of whole deployments only: the backend's clock runs this many seconds ahead, so a restarted
    # process finds a window's reminder or breach due (tests/e2e/test_scaled.py). Never in production.
    clock_offset_seconds: int = Field(default=0, ge=0, le=366 * 24 * 3600)

    # --- The database pool and the console's live chat streams (docs/console.md, "Live updates") ---
    # Connections one backend process keeps open, and how many more it may open under load; a request
    # that finds none free waits this long, then fails. Requests hold one only while they run.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    # A chat page's live updates (server-sent events): at most this many open per member of staff in one
    # process (the next is refused), a look at the chat this often, a reconnect after this long. Between
    # looks a stream holds no connection and no thread; at most this many streams look at once.
    console_streams_per_staff: int = Field(default=5, ge=1, le=100)
    console_stream_poll_seconds: float = Field(default=1.0, gt=0, le=3600)
    console_stream_lifetime_seconds: float = Field(default=300.0, gt=0, le=24 * 3600)
    console_stream_workers: int = Field(default=4, ge=1, le=64)

    # --- The bot's models (docs/bot.md, "Training, checking, rolling out") ---
    # The backend's address, given to the trainer it starts: the trainer reports its progress there.
    api_url: str = "http://127.0.0.1:8000"
    # The repository's build (models/<inputs' hash>.tar.gz, which `make setup` trains from data/; set by
    # scripts/stack/): served to the Rasa processes until a candidate is rolled out.
    bot_base_model: str | None = None
    # Where candidates are trained and kept, one folder each (the model, what it was trained on, its log).
    bot_models_dir: str = str(ROOT / "models" / "candidates")
    # The conversation side's Python (Rasa trains there; this environment has no Rasa).
    bot_python: str = str(ROOT / ".venv" / "bot" / "bin" / "python")
    # Whether asking for a training starts the trainer; empty = yes, except with APP_ENV=test.
    model_trainer_enabled: bool | None = None
    # One in this many reviewed examples (by a stable hash of the wording) is held out of training to check
    # the candidate on.
    model_held_out_every: int = Field(default=5, ge=2, le=100)
    # A candidate is refused rollout when, on the untouched test set, its accuracy is lower or its wrong
    # answers among the answered more frequent than the model in force's by more than this share.
    model_rollout_margin: float = Field(default=0.01, ge=0, le=0.2)
    # A training whose trainer has reported nothing for this long is marked failed (the trainer died).
    model_training_stale_seconds: float = Field(default=180.0, ge=30, le=24 * 3600)

    @field_validator(
        "operator_config", "notifier_webhook_url", "bot_base_model", "model_trainer_enabled", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _streams_leave_connections(self) -> Settings:
        """The streams' looks must never take the whole pool: requests need connections too."""
        if self.console_stream_workers >= self.database_pool_size + self.database_max_overflow:
            raise ValueError(
                "CONSOLE_STREAM_WORKERS must be smaller than DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW "
                "(the live chat streams would otherwise take every connection)"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL with the driver this backend ships (psycopg 3 for PostgreSQL)."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    @property
    def trainer_enabled(self) -> bool:
        """Whether a training asked for starts the trainer (never by default in tests: a test that trains
        says so)."""
        return self.model_trainer_enabled if self.model_trainer_enabled is not None else self.app_env != "test"

    @property
    def secure_cookies(self) -> bool:
        return self.console_secure_cookie or self.app_env == "production"

    def check_for_production(self) -> None:
        """Refuse to run in production with the development placeholder secrets."""
        if self.app_env != "production":
            return
        if self.simulator_enabled:
            raise RuntimeError(
                "APP_ENV=production with SIMULATOR_ENABLED: the WeChat simulator is for development only"
            )
        if self.clock_offset_seconds:
            raise RuntimeError("APP_ENV=production with CLOCK_OFFSET_SECONDS: the clock is moved for tests only")
        weak = [
            name
            for name, secret in (("API_TOKEN", self.api_token), ("RASA_AUTH_TOKEN", self.rasa_auth_token))
            if weak_secret(secret.get_secret_value())
        ]
        if weak:
            raise RuntimeError(
                f"APP_ENV=production but {', '.join(weak)} hold development samples or are shorter than "
                f"{MIN_SECRET_LENGTH} characters; set long random secrets in the environment."
            )


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
