"""Fixtures of the action tests: a fake backend on a real port, and tracker builders."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from rasa_sdk import Tracker

from bot.nlu import extract
from bot.parsing import LOCAL_TZ, parse_phone, parse_temperature
from bot.stores import upgrade
from tests.actions.fake_backend import FakeBackend


@pytest.fixture(autouse=True)
def spool_url(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test keeps its waiting orders in its own spool file, migrated as `make setup` does."""
    url = f"sqlite:///{tmp_path}/filing_spool.sqlite3"
    upgrade("spool", url)
    monkeypatch.setenv("ACTION_SPOOL_DB", url)
    return url


@pytest_asyncio.fixture
async def backend(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeBackend]:
    fake = FakeBackend()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    monkeypatch.setenv("API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("API_TOKEN", fake.token)
    monkeypatch.setenv("API_RETRIES", "3")
    monkeypatch.setenv("API_BACKOFF_SECONDS", "0.01")
    yield fake
    await runner.cleanup()


@pytest.fixture
def unreachable_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """API_URL points at a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("API_RETRIES", "2")
    monkeypatch.setenv("API_BACKOFF_SECONDS", "0.01")


def make_tracker(
    text: str,
    intent: str,
    sender_id: str = "oRESIDENT0001",
    message_id: str = "m1",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    earlier_intents: tuple[str, ...] = (),
    now: datetime | None = None,
    earlier_events: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message is ``text`` classified as ``intent``, as Rasa sends it.

    Without explicit ``entities`` the message carries what the pipeline's own extractor finds
    (addresses, times, categories) plus the phone numbers and temperatures the regexes find.
    """
    if entities is None:
        entities = extract(text, now or datetime.now(LOCAL_TZ))
        phone = parse_phone(text)
        if phone:
            entities.append({"entity": "phone", "value": phone})
        temperature = parse_temperature(text)
        if temperature is not None:
            entities.append({"entity": "temperature", "value": f"{temperature:g}度"})
    latest: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities,
        "message_id": message_id,
        "metadata": metadata or {},
    }
    earlier = [
        {"event": "user", "text": f"earlier {i}", "parse_data": {"intent": {"name": name}}}
        for i, name in enumerate(earlier_intents)
    ]
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message=latest,
        events=earlier
        + list(earlier_events or [])
        + [{"event": "user", "text": text, "parse_data": latest, "message_id": message_id}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def responses(messages: list[dict[str, Any]]) -> list[str]:
    """The response names (or texts) the dispatcher collected, in order."""
    return [m.get("response") or m.get("text") or "" for m in messages]


# The metadata Rasa puts on a message the backend triggered (POST .../trigger_intent).
FROM_BACKEND = {"is_external": True}
