"""The action server refuses to start open, in production with sample secrets or the sample operator
file, or with a broken operator file."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.server import build_app
from bot import operator
from bot.operator import SampleInProduction, check_operator_file
from bot.settings import BotSettings, ConfigurationError
from heating_standard.operator import OperatorFileError

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "operator.sample.yml"


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


STRONG = {"API_TOKEN": "R7n1-yH4sQe6uB0d-long", "ACTION_SERVER_TOKEN": "Zq8v-3kLw9pT2mXc-long"}


def test_production_refuses_the_sample_operator_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The bot would tell residents the sample's season dates and hotline as fact."""
    monkeypatch.delenv("OPERATOR_CONFIG", raising=False)
    shipped = tmp_path / "config"
    shipped.mkdir()
    (shipped / "operator.sample.yml").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(operator, "CONFIG_DIR", shipped)  # no operator.yml beside it: the sample applies
    with pytest.raises(SampleInProduction, match="sample operator file"):
        build_app(settings(APP_ENV="production", **STRONG), retry_loop_enabled=False)
    confirmed = tmp_path / "operator.yml"
    confirmed.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    facts = check_operator_file("production", {"OPERATOR_CONFIG": str(confirmed)})
    assert not facts.file.is_sample and facts.file.source == str(confirmed)


def test_a_broken_operator_file_stops_the_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "operator.yml"
    broken.write_text("escalation:\n  reminder_share: 3\n", encoding="utf-8")
    monkeypatch.setenv("OPERATOR_CONFIG", str(broken))
    with pytest.raises(OperatorFileError, match="reminder_share"):
        build_app(settings(**STRONG), retry_loop_enabled=False)
