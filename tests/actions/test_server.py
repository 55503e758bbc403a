"""The action server refuses to start open, or in production with sample secrets."""

from __future__ import annotations

import pytest

from actions.server import build_app
from bot.settings import BotSettings, ConfigurationError


def settings(**values: str) -> BotSettings:
    environ = {"APP_ENV": "development", "API_TOKEN": "x", "ACTION_SERVER_TOKEN": "y", **values}
    return BotSettings.from_env(environ)


def test_no_action_server_token_outside_tests_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="ACTION_SERVER_TOKEN"):
        build_app(settings(ACTION_SERVER_TOKEN=""), retry_loop_enabled=False)


@pytest.mark.parametrize(
    "values",
    [
        {"ACTION_SERVER_TOKEN": "dev-action-token"},
        {"ACTION_SERVER_TOKEN": "short"},
        {"API_TOKEN": "dev-api-token", "ACTION_SERVER_TOKEN": "Zq8v-3kLw9pT2mXc-long"},
    ],
)
def test_production_refuses_sample_or_short_secrets(values: dict[str, str]) -> None:
    strong = {"API_TOKEN": "R7n1-yH4sQe6uB0d-long", "ACTION_SERVER_TOKEN": "Zq8v-3kLw9pT2mXc-long"}
    with pytest.raises(ConfigurationError):
        build_app(settings(APP_ENV="production", **{**strong, **values}), retry_loop_enabled=False)
