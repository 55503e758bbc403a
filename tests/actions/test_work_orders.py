"""action_file_work_order against a fake backend."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.work_orders import ActionFileWorkOrder
from tests.actions.conftest import make_tracker
from tests.actions.fake_backend import FakeBackend

pytestmark = pytest.mark.asyncio


async def run_action(tracker):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    events = await ActionFileWorkOrder().run(dispatcher, tracker, {})
    return dispatcher.messages, events


async def test_files_a_room_temperature_complaint_and_tells_the_number(backend: FakeBackend) -> None:
    messages, _ = await run_action(make_tracker("我家暖气不热", "complain_room_temperature"))
    assert len(backend.orders) == 1
    order = backend.orders[0]
    assert (order["kind"], order["category"], order["source"]) == ("complaint", "room_temperature", "wechat")
    assert order["resident_openid"] == "oRESIDENT0001"
    assert order["description"] == "我家暖气不热"
    assert len(messages) == 1
    assert messages[0]["response"] == "utter_work_order_filed"
    assert messages[0]["number"] == "GD20261210000001"
    assert messages[0]["window"] == "在30分钟内"


async def test_window_in_the_reply_follows_the_backend_deadline(backend: FakeBackend) -> None:
    backend.response_minutes = 90  # first 15 days of the season (10.1.4)
    messages, _ = await run_action(make_tracker("暖气不热", "complain_room_temperature"))
    assert messages[0]["window"] == "在1小时30分钟内"


async def test_a_retried_turn_files_no_second_order(backend: FakeBackend) -> None:
    tracker = make_tracker("我家暖气不热", "complain_room_temperature", message_id="wx-123")
    first, _ = await run_action(tracker)
    second, _ = await run_action(tracker)
    assert len(backend.orders) == 1
    assert first[0]["number"] == second[0]["number"]
    keys = {r["headers"]["Idempotency-Key"] for r in backend.requests}
    assert len(keys) == 1


async def test_another_message_files_another_order(backend: FakeBackend) -> None:
    await run_action(make_tracker("暖气不热", "complain_room_temperature", message_id="a"))
    await run_action(make_tracker("暖气不热", "complain_room_temperature", message_id="b"))
    assert len(backend.orders) == 2


async def test_backend_failing_briefly_is_retried(backend: FakeBackend) -> None:
    backend.fail_next = 2
    messages, _ = await run_action(make_tracker("暖气不热", "complain_room_temperature"))
    assert len(backend.requests) == 3
    assert messages[0]["response"] == "utter_work_order_filed"


async def test_backend_down_tells_the_resident_plainly(unreachable_backend: None) -> None:
    messages, events = await run_action(make_tracker("暖气不热", "complain_room_temperature"))
    assert [m["response"] for m in messages] == ["utter_backend_unavailable"]
    assert events == []


async def test_backend_refusal_is_not_retried(backend: FakeBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", "wrong-token")
    messages, _ = await run_action(make_tracker("暖气不热", "complain_room_temperature"))
    assert len(backend.requests) == 1
    assert [m["response"] for m in messages] == ["utter_filing_refused"]
