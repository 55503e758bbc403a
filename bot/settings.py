"""Settings of the conversation side: every environment variable it reads is read here.

Read at call time (``get_settings()``), never at import, so tests can set their own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# The standard the bot cites; its clauses are quoted as "依据《…》10.1.4".
STANDARD_NAME = "威海市城镇供热服务规范"


@dataclass(frozen=True)
class BotSettings:
    """Configuration of the Rasa server's channels and of the action server."""

    app_env: str
    api_url: str
    api_token: str
    api_timeout_seconds: float
    api_retries: int
    api_backoff_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> BotSettings:
        return cls(
            app_env=environ.get("APP_ENV", "development"),
            api_url=environ.get("API_URL", "http://127.0.0.1:8000").rstrip("/"),
            api_token=environ.get("API_TOKEN", "dev-api-token"),
            api_timeout_seconds=float(environ.get("API_TIMEOUT_SECONDS", "5")),
            api_retries=int(environ.get("API_RETRIES", "3")),
            api_backoff_seconds=float(environ.get("API_BACKOFF_SECONDS", "0.5")),
        )


def get_settings() -> BotSettings:
    """The settings as the environment holds them now."""
    return BotSettings.from_env()
