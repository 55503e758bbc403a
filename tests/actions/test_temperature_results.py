"""A room-temperature test's result in WeChat (10.3 第1条 a, b): shown with two options, confirmed or disputed."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.survey import ActionNoteRating
from actions.temperature_results import ActionAnswerTemperature, ActionAskTemperatureConfirmation
from bot.parsing import result_answer
from tests.actions.conftest import FROM_BACKEND, make_tracker, responses
from tests.actions.fake_backend import FakeBackend

RESULT = "【入户测温结果】工单 GD20261210000009：卧室三次读数 17.5、17.6、17.8℃，实测室温 17.6℃，未达到18℃（5.1）。"
ORDER = [
    {"entity": "order_id", "value": 9},
    {"entity": "order_number", "value": "GD20261210000009"},
    {"entity": "message", "value": RESULT},
]
SHOWN = {"temperature_order": {"id": 9, "number": "GD20261210000009"}}


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def resident_order(backend: FakeBackend, openid: str = "oRESIDENT0001") -> None:
    backend.orders.append({"id": 9, "number": "GD20261210000009", "status": "completed", "resident_openid": openid})


async def test_the_result_is_shown_with_two_options_and_its_order_remembered() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("", "EXTERNAL_temperature_confirmation", entities=ORDER, metadata=FROM_BACKEND)
    events = await ActionAskTemperatureConfirmation().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == RESULT
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert slot_events(events) == SHOWN


async def test_a_result_not_from_the_backend_is_not_shown_nor_remembered() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("", "EXTERNAL_temperature_confirmation", entities=ORDER)
    events = await ActionAskTemperatureConfirmation().run(dispatcher, tracker, {})
    assert responses(dispatcher.messages) == ["utter_default"] and slot_events(events) == {"temperature_order": None}


@pytest.mark.parametrize(
    ("text", "intent"),
    [("确认", "affirm"), ("没有异议", "nlu_fallback"), ("同意", "rate_satisfaction"), ("1", "affirm")],
)
async def test_a_yes_confirms_the_order_the_bot_showed(backend: FakeBackend, text: str, intent: str) -> None:
    resident_order(backend)
    dispatcher = CollectingDispatcher()
    # an order id in the message itself is not believed: only the one the bot showed counts
    tracker = make_tracker(text, intent, slots=SHOWN, entities=[{"entity": "order_id", "value": 99}])
    events = await ActionAnswerTemperature().run(dispatcher, tracker, {})
    assert backend.temperature_answers == [{"order_id": 9, "resident_openid": "oRESIDENT0001", "confirmed": True}]
    assert backend.handoffs == [] and responses(dispatcher.messages) == ["utter_temperature_confirmed"]
    assert slot_events(events) == {"temperature_order": None}


@pytest.mark.parametrize(
    ("text", "intent"), [("温度不对，我有异议", "complain_room_temperature"), ("不认可", "cancel"), ("2", "deny")]
)
async def test_a_dispute_is_recorded_and_hands_the_chat_to_staff(backend: FakeBackend, text: str, intent: str) -> None:
    resident_order(backend)
    dispatcher = CollectingDispatcher()
    await ActionAnswerTemperature().run(dispatcher, make_tracker(text, intent, slots=SHOWN, entities=[]), {})
    assert backend.temperature_answers[0]["confirmed"] is False
    assert "GD20261210000009" in backend.handoffs[0]["summary"] and "10.3 第1条 b" in backend.handoffs[0]["summary"]
    assert responses(dispatcher.messages) == ["utter_temperature_disputed"]


async def test_another_residents_order_is_not_answered(backend: FakeBackend) -> None:
    resident_order(backend, openid="oOTHER")
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerTemperature().run(dispatcher, make_tracker("1", "affirm", slots=SHOWN, entities=[]), {})
    assert backend.temperature_answers == [] and events == []  # still shown: the resident may answer again
    assert responses(dispatcher.messages) == ["utter_temperature_not_recorded"]


async def test_an_answer_that_says_neither_gets_the_options_again(backend: FakeBackend) -> None:
    resident_order(backend)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("什么时候供暖？", "ask_heating_period", slots=SHOWN, entities=[])
    assert await ActionAnswerTemperature().run(dispatcher, tracker, {}) == []
    assert backend.temperature_answers == [] and responses(dispatcher.messages) == ["utter_ask_temperature_answer"]


async def test_agreeing_to_a_result_is_not_thanked_for_as_an_evaluation(backend: FakeBackend) -> None:
    resident_order(backend)
    dispatcher = CollectingDispatcher()
    await ActionNoteRating().run(dispatcher, make_tracker("同意", "rate_satisfaction", slots=SHOWN, entities=[]), {})
    assert responses(dispatcher.messages) == ["utter_temperature_confirmed"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("确认", True),
        ("没问题", True),
        ("没有异议", True),
        ("无异议", True),
        ("1", True),
        ("有异议", False),
        ("不认可这个结果", False),
        ("温度测得不准", False),
        ("2", False),
        ("测的是哪个房间？", None),
        ("供暖费多少钱", None),
    ],
)
def test_the_words_of_an_answer_to_a_result(text: str, said: bool | None) -> None:
    assert result_answer(text) is said
