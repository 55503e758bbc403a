"""Settings of the conversation side: every environment variable it reads is read here.

Read at call time (``get_settings()``), never at import, so tests can set their own.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from policies.secrets import MIN_SECRET_LENGTH, weak_secret


def bearer_matches(authorization: str, token: str) -> bool:
    """True when an ``Authorization`` header carries ``token`` as a bearer token (compared in constant
    time); never true without a token configured."""
    scheme, _, given = authorization.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class ConfigurationError(RuntimeError):
    """The process must not start with this configuration; the message says what to set."""


@dataclass(frozen=True)
class BotSettings:
    """Configuration of the Rasa server's channels and of the action server."""

    app_env: str
    api_url: str
    api_token: str
    api_timeout_seconds: float
    api_retries: int
    api_backoff_seconds: float
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_auth_token: str = ""
    # Shared by the Rasa server (endpoints.yml) and the action server: only Rasa may run actions.
    action_server_token: str = ""
    spool_interval_seconds: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> BotSettings:
        return cls(
            app_env=environ.get("APP_ENV", "development"),
            api_url=environ.get("API_URL", "http://127.0.0.1:8000").rstrip("/"),
            api_token=environ.get("API_TOKEN", "dev-api-token"),
            api_timeout_seconds=float(environ.get("API_TIMEOUT_SECONDS", "5")),
            api_retries=int(environ.get("API_RETRIES", "3")),
            api_backoff_seconds=float(environ.get("API_BACKOFF_SECONDS", "0.5")),
            rasa_url=environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_auth_token=environ.get("RASA_AUTH_TOKEN", ""),
            action_server_token=environ.get("ACTION_SERVER_TOKEN", ""),
            spool_interval_seconds=float(environ.get("SPOOL_INTERVAL_SECONDS", "60")),
        )

    def check(self, secrets: Mapping[str, str]) -> None:
        """``check_secrets`` for this process's environment."""
        check_secrets(self.app_env, secrets)


def check_secrets(app_env: str, secrets: Mapping[str, str]) -> None:
    """Refuse to start a process with an empty token (outside tests) or, in production, a weak one.

    ``secrets`` names the secrets the process holds, e.g. {"ACTION_SERVER_TOKEN": "..."}.
    """
    if app_env != "test":
        empty = [name for name, value in secrets.items() if not value]
        if empty:
            raise ConfigurationError(f"{', '.join(empty)} is empty: set it in the environment")
    if app_env == "production":
        weak = [name for name, value in secrets.items() if weak_secret(value)]
        if weak:
            raise ConfigurationError(
                f"APP_ENV=production but {', '.join(weak)} is a sample or shorter than "
                f"{MIN_SECRET_LENGTH} characters; set a long random value"
            )


def get_settings() -> BotSettings:
    """The settings as the environment holds them now."""
    return BotSettings.from_env()
