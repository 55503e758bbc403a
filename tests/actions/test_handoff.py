"""Handing the chat to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionDefaultFallback, ActionFallback, ActionHandoff, ActionTakeReading
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


def fallback_tracker(text: str, ranking: list[tuple[str, float]], earlier: list[dict[str, Any]] | None = None) -> Any:
    """A message the NLU was unsure of, as Rasa sends it: nlu_fallback first, then its ranking."""
    tracker = make_tracker(text, "nlu_fallback", earlier_events=earlier)
    tracker.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.5}] + [
        {"name": name, "confidence": confidence} for name, confidence in ranking
    ]
    return tracker


def turn(text: str, intent: str, *actions: str) -> list[dict[str, Any]]:
    """An earlier turn: the resident's message and the actions the bot ran for it."""
    return [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
        *({"event": "action", "name": name} for name in actions),
        {"event": "action", "name": "action_listen"},
    ]


async def test_an_unsure_reading_offers_the_likeliest_intents_and_a_person(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    tracker = fallback_tracker(
        "暖气那个钱的事咋整", [("ask_payment", 0.41), ("ask_fee_standard", 0.3), ("inform", 0.12), ("ask_refund", 0.11)]
    )
    events = await ActionFallback().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_clarify"
    titles = [button["title"] for button in message["buttons"]]
    assert titles == ["怎么交暖气费", "收费标准", "退费", "都不是，转人工"]
    assert message["buttons"][0]["payload"] == '/choose_reading{"reading": "ask_payment"}'
    assert message["buttons"][-1]["payload"] == "/request_human"
    [kept] = [e["value"] for e in events if e.get("name") == "clarifying"]
    assert kept["text"] == "暖气那个钱的事咋整" and kept["offered"] == ["ask_payment", "ask_fee_standard", "ask_refund"]
    assert backend.handoffs == []


async def test_noise_with_no_likely_reading_asks_to_rephrase(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    tracker = fallback_tracker("啊吧啊吧", [("greet", 0.06), ("ask_payment", 0.05)])
    events = await ActionFallback().run(dispatcher, tracker, {})
    assert responses(dispatcher.messages) == ["utter_default"]
    assert events == [{"event": "slot", "timestamp": None, "name": "misunderstood", "value": True}]
    assert backend.handoffs == []


async def test_second_misunderstanding_in_a_row_goes_to_a_person(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    tracker = fallback_tracker(
        "啊吧啊吧", [("ask_payment", 0.3)], earlier=turn("嗯嗯嗯", "nlu_fallback", "action_fallback")
    )
    events = await ActionFallback().run(dispatcher, tracker, {})
    assert backend.handoffs[0]["reason"] == "fallback"
    assert events[-1]["event"] == "pause"


async def test_rasas_core_fallback_counts_as_a_misunderstanding_too(backend: FakeBackend) -> None:
    """A "yes" with nothing to say yes to, then noise: the second "没有理解" in a row is a person."""
    dispatcher = CollectingDispatcher()
    first = make_tracker("是的是的", "affirm")
    await ActionDefaultFallback().run(dispatcher, first, {})
    assert responses(dispatcher.messages) == ["utter_default"] and backend.handoffs == []
    second = fallback_tracker("嗯嗯", [], earlier=turn("是的是的", "affirm", "action_default_fallback"))
    await ActionFallback().run(dispatcher, second, {})
    assert backend.handoffs and backend.handoffs[0]["reason"] == "fallback"


async def test_an_understood_turn_between_two_misunderstandings_resets_the_count(backend: FakeBackend) -> None:
    earlier = turn("嗯嗯嗯", "nlu_fallback", "action_fallback") + turn(
        "怎么交费", "ask_payment", "action_answer_question"
    )
    await ActionFallback().run(CollectingDispatcher(), fallback_tracker("啊吧", [], earlier=earlier), {})
    assert backend.handoffs == []


async def test_a_chosen_reading_was_not_a_misunderstanding_and_a_resumed_chat_starts_afresh(
    backend: FakeBackend,
) -> None:
    chosen = turn("钱咋整", "nlu_fallback", "action_fallback") + turn("1", "choose_reading", "action_take_reading")
    chosen += [{"event": "rewind"}, {"event": "rewind"}] + turn("钱咋整", "ask_payment", "action_answer_question")
    await ActionFallback().run(CollectingDispatcher(), fallback_tracker("啊吧", [], earlier=chosen), {})
    resumed = turn("嗯嗯嗯", "nlu_fallback", "action_fallback") + [{"event": "resume"}]
    await ActionFallback().run(CollectingDispatcher(), fallback_tracker("啊吧", [], earlier=resumed), {})
    assert backend.handoffs == []


async def test_a_chosen_reading_is_the_message_said_again_as_that_intent() -> None:
    kept = {
        "text": "阳光小区3号楼501那个暖气咋整",
        "entities": [{"entity": "address", "value": "阳光小区3号楼501"}],
        "offered": ["request_repair", "complain_room_temperature"],
    }
    tracker = make_tracker(
        '/choose_reading{"reading": "request_repair"}',
        "choose_reading",
        slots={"clarifying": kept},
        entities=[{"entity": "reading", "value": "request_repair"}],
    )
    events = await ActionTakeReading().run(CollectingDispatcher(), tracker, {})
    assert [e["event"] for e in events] == ["rewind", "rewind", "action", "user"]
    said = events[-1]
    assert said["text"] == kept["text"]
    assert said["parse_data"]["intent"] == {"name": "request_repair", "confidence": 1.0}
    assert said["parse_data"]["entities"] == kept["entities"]
    assert said["message_id"] == "m1"  # the choice's id: the channel finds the answer by it


async def test_a_reading_never_offered_is_not_taken() -> None:
    tracker = make_tracker(
        '/choose_reading{"reading": "request_human"}',
        "choose_reading",
        slots={"clarifying": {"text": "x", "entities": [], "offered": ["ask_payment"]}},
        entities=[{"entity": "reading", "value": "request_human"}],
    )
    dispatcher = CollectingDispatcher()
    events = await ActionTakeReading().run(dispatcher, tracker, {})
    assert responses(dispatcher.messages) == ["utter_default"]
    assert all(e["event"] != "user" for e in events)


async def test_a_turn_marked_misunderstood_by_any_action_counts(backend: FakeBackend) -> None:
    """The outage question's "which community?" answered with something else is a misunderstanding too."""
    marked = turn("随便说说", "inform", "action_answer_outage")
    marked.insert(2, {"event": "slot", "name": "misunderstood", "value": True})
    await ActionFallback().run(CollectingDispatcher(), fallback_tracker("啊吧", [], earlier=marked), {})
    assert backend.handoffs and backend.handoffs[0]["reason"] == "fallback"


LIST = (
    "帮居民报修：\n1. 6号楼1单元602 王大爷 暖气不热 13700000016\n2. 青松苑7号楼2单元301 李阿姨 暖气片漏水 13700000017"
)


async def test_a_list_of_households_the_nlu_was_unsure_of_is_filed_as_its_likeliest_reading(
    backend: FakeBackend,
) -> None:
    """11.4: a grid worker's two households with unlike problems split the NLU between two filings; the
    message is said again as the likelier one, not asked about, and nothing counts as misunderstood."""
    dispatcher = CollectingDispatcher()
    tracker = fallback_tracker(LIST, [("request_repair", 0.45), ("complain_room_temperature", 0.35)])
    events = await ActionFallback().run(dispatcher, tracker, {})
    assert dispatcher.messages == [] and backend.handoffs == []
    assert [e["event"] for e in events] == ["rewind", "action", "user"]
    said = events[-1]
    assert said["text"] == LIST and said["parse_data"]["intent"] == {"name": "request_repair", "confidence": 1.0}


async def test_one_household_or_a_list_read_as_a_question_is_still_asked_about(backend: FakeBackend) -> None:
    one = fallback_tracker("6号楼1单元602 暖气不热 13700000016", [("request_repair", 0.45), ("inform", 0.35)])
    question = fallback_tracker(LIST, [("ask_repair_process", 0.45), ("request_repair", 0.35)])
    for tracker in (one, question):
        dispatcher = CollectingDispatcher()
        events = await ActionFallback().run(dispatcher, tracker, {})
        assert responses(dispatcher.messages) == ["utter_clarify"]
        assert not any(e["event"] == "rewind" for e in events)
