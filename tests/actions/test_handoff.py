"""Handing the chat to a person."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionFallback, ActionHandoff
from tests.actions.conftest import make_tracker, responses
from tests.actions.fake_backend import FakeBackend


async def test_request_opens_a_handoff_says_when_and_pauses(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, make_tracker("转人工", "request_human"), {})
    assert backend.handoffs == [{"resident_openid": "oRESIDENT0001", "reason": "requested", "summary": "转人工"}]
    assert responses(dispatcher.messages) == ["utter_handoff"]
    assert "10分钟内" in dispatcher.messages[0]["when"]
    assert events[-1] == {"event": "pause", "timestamp": None}


async def test_anger_is_the_reason_recorded(backend: FakeBackend) -> None:
    tracker = make_tracker(
        "再不修我就打12345",
        "complain_service",
        slots={"anger": "12345"},
        entities=[{"entity": "anger", "value": "12345"}],
    )
    await ActionHandoff().run(CollectingDispatcher(), tracker, {})
    assert backend.handoffs[0]["reason"] == "anger"


async def test_backend_down_keeps_the_bot_answering_and_gives_the_hotline(unreachable_backend: None) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, make_tracker("转人工", "request_human"), {})
    assert "服务热线" in dispatcher.messages[0]["text"]
    assert all(e.get("event") != "pause" for e in events)


async def test_first_misunderstanding_asks_to_rephrase(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionFallback().run(
        dispatcher, make_tracker("啊吧啊吧", "nlu_fallback", earlier_intents=("greet",)), {}
    )
    assert responses(dispatcher.messages) == ["utter_default"] and events == []
    assert backend.handoffs == []


async def test_second_misunderstanding_in_a_row_goes_to_a_person(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("啊吧啊吧", "nlu_fallback", earlier_intents=("nlu_fallback",))
    events = await ActionFallback().run(dispatcher, tracker, {})
    assert backend.handoffs[0]["reason"] == "fallback"
    assert events[-1]["event"] == "pause"
