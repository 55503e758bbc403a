"""The action server refuses to start open, in production with sample secrets or the sample operator
file, or with a broken operator file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client import REGISTRY
from sanic import Sanic

from actions.server import build_app
from bot import operator
from bot.operator import SampleInProduction, check_operator_file
from bot.settings import BotSettings, ConfigurationError
from heating_standard.operator import OperatorFileError
from tests.sanic_served import served

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


# --------------------------------------------------------------------------- probes and figures


@pytest_asyncio.fixture
async def action_server(spool_url: str) -> AsyncIterator[str]:
    """The action server's app, served on a free port (no token: APP_ENV=test)."""
    Sanic.test_mode = True
    app = build_app(settings(APP_ENV="test", ACTION_SERVER_TOKEN=""), retry_loop_enabled=False)
    async with served(app) as url:
        yield url


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_ready_while_the_spool_answers_and_not_without_it(
    action_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{action_server}/health/ready") as ready:
            assert (ready.status, (await ready.json())["spool"]) == (200, True)
        # a spool that was never migrated (or a database that is gone) is no place to keep a filing
        monkeypatch.setenv("ACTION_SPOOL_DB", f"sqlite:///{tmp_path}/never_migrated.sqlite3")
        async with session.get(f"{action_server}/health/ready") as unready:
            assert unready.status == 503
        async with session.get(f"{action_server}/health") as live:
            assert live.status == 200


async def test_each_action_run_is_counted_by_name_and_outcome(action_server: str) -> None:
    """A name the package does not register is ``other``: a caller cannot grow the series."""
    tracker = {"sender_id": "oRESIDENT0001", "slots": {}, "latest_message": {}, "events": [], "paused": False}
    call = {"next_action": "action_cancel_filing", "tracker": tracker, "domain": {}, "version": "3.6.2"}
    before = [
        sample("actions_runs_total", action="action_cancel_filing", outcome="ok"),
        sample("actions_runs_total", action="other", outcome="error"),
        sample("actions_run_duration_seconds_count", action="action_cancel_filing"),
    ]
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{action_server}/webhook", json=call) as answer:
            assert answer.status == 200, await answer.text()
        async with session.post(f"{action_server}/webhook", json={**call, "next_action": "action_o1234567"}) as unknown:
            assert unknown.status == 404
        async with session.get(f"{action_server}/metrics") as scraped:
            text = await scraped.text()
    after = [
        sample("actions_runs_total", action="action_cancel_filing", outcome="ok"),
        sample("actions_runs_total", action="other", outcome="error"),
        sample("actions_run_duration_seconds_count", action="action_cancel_filing"),
    ]
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]
    assert "actions_spool_waiting 0.0" in text
    assert 'route="/webhook"' in text and "action_o1234567" not in text
