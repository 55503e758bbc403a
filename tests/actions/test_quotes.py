"""A paid repair's quote in WeChat (10.2.2): shown with two options, confirmed or declined by the resident."""

from __future__ import annotations

import time

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.quotes import ActionAnswerQuote, ActionAskQuoteConfirmation
from actions.survey import ActionNoteRating
from tests.actions.conftest import FROM_BACKEND, make_tracker, responses
from tests.actions.fake_backend import FakeBackend

QUOTE = "【维修报价】工单 GD20261210000007 的维修项目：\n· 更换暖气阀门（DN20铜阀） ×2，单价 45.50 元\n合计 91.00 元。"
ORDER = [
    {"entity": "order_id", "value": 7},
    {"entity": "order_number", "value": "GD20261210000007"},
    {"entity": "message", "value": QUOTE},
]
SHOWN = {"quote_order": {"id": 7, "number": "GD20261210000007"}}


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_the_quote_is_shown_with_two_options_and_its_order_remembered() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("", "EXTERNAL_quote_confirmation", entities=ORDER, metadata=FROM_BACKEND)
    events = await ActionAskQuoteConfirmation().run(dispatcher, tracker, {})
    shown = dispatcher.messages[0]
    assert shown["text"] == QUOTE
    assert [b["payload"] for b in shown["buttons"]] == ["/affirm", "/deny"]
    assert slot_events(events) == SHOWN


async def test_a_quote_handed_over_again_is_not_shown_twice() -> None:
    handed = [*ORDER, {"entity": "handover", "value": "notification:3"}]
    first = make_tracker("", "EXTERNAL_quote_confirmation", entities=handed, metadata=FROM_BACKEND)
    dispatcher = CollectingDispatcher()
    await ActionAskQuoteConfirmation().run(dispatcher, first, {})
    assert dispatcher.messages[0]["handover"] == "notification:3"
    earlier = {"event": "user", "parse_data": {"entities": handed}, "metadata": FROM_BACKEND}
    again = make_tracker(
        "", "EXTERNAL_quote_confirmation", entities=handed, metadata=FROM_BACKEND, earlier_events=[earlier]
    )
    dispatcher = CollectingDispatcher()
    assert await ActionAskQuoteConfirmation().run(dispatcher, again, {}) == []
    assert dispatcher.messages == []


async def test_a_quote_not_from_the_backend_is_not_shown_nor_remembered() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("", "EXTERNAL_quote_confirmation", entities=ORDER)
    events = await ActionAskQuoteConfirmation().run(dispatcher, tracker, {})
    assert responses(dispatcher.messages) == ["utter_default"]
    assert slot_events(events) == {"quote_order": None}


async def test_the_residents_yes_confirms_the_order_the_bot_showed(backend: FakeBackend) -> None:
    backend.orders.append(
        {"id": 7, "number": "GD20261210000007", "status": "arrived", "resident_openid": "oRESIDENT0001"}
    )
    dispatcher = CollectingDispatcher()
    # an order id in the message itself is not believed: only the one the bot showed counts
    tracker = make_tracker("是的", "affirm", slots=SHOWN, entities=[{"entity": "order_id", "value": 99}])
    events = await ActionAnswerQuote().run(dispatcher, tracker, {})
    assert backend.confirmed_quotes[0]["order_id"] == 7
    assert backend.confirmed_quotes[0]["resident_openid"] == "oRESIDENT0001"
    assert responses(dispatcher.messages) == ["utter_quote_confirmed"]
    assert slot_events(events) == {"quote_order": None}


async def test_another_residents_order_is_not_confirmed(backend: FakeBackend) -> None:
    backend.orders.append({"id": 7, "number": "GD20261210000007", "status": "arrived", "resident_openid": "oOTHER"})
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuote().run(dispatcher, make_tracker("1", "affirm", slots=SHOWN, entities=[]), {})
    assert backend.confirmed_quotes == []
    assert responses(dispatcher.messages) == ["utter_quote_not_recorded"]


async def test_a_yes_without_a_quote_shown_confirms_nothing(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuote().run(dispatcher, make_tracker("是的", "affirm", entities=[]), {})
    assert backend.confirmed_quotes == [] and responses(dispatcher.messages) == ["utter_anything_else"]


async def test_the_residents_no_hands_the_chat_to_staff(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuote().run(dispatcher, make_tracker("不同意", "deny", slots=SHOWN, entities=[]), {})
    assert "GD20261210000007" in backend.handoffs[0]["summary"]
    assert responses(dispatcher.messages) == ["utter_quote_declined"]


def resident_order(backend: FakeBackend) -> None:
    backend.orders.append(
        {"id": 7, "number": "GD20261210000007", "status": "arrived", "resident_openid": "oRESIDENT0001"}
    )


# What the NLU makes of these answers today: "同意" a rating, "行，修吧" not understood (the fallback),
# "太贵了不修了" a cancel, "可以修" a yes. The words decide.
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("同意", "rate_satisfaction"),
        ("可以修", "affirm"),
        ("行，修吧", "nlu_fallback"),
        ("同意报价", "nlu_fallback"),
        ("可以修", "request_repair"),
        ("1", "affirm"),
    ],
)
async def test_a_yes_in_words_confirms_the_quote_whatever_the_nlu_made_of_it(
    backend: FakeBackend, text: str, intent: str
) -> None:
    resident_order(backend)
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerQuote().run(dispatcher, make_tracker(text, intent, slots=SHOWN, entities=[]), {})
    assert [q["order_id"] for q in backend.confirmed_quotes] == [7] and backend.handoffs == []
    assert responses(dispatcher.messages) == ["utter_quote_confirmed"]
    assert slot_events(events) == {"quote_order": None}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("太贵了不修了", "cancel"),
        ("不同意", "deny"),
        ("不修了", "cancel"),
        ("不同意", "rate_satisfaction"),
        ("2", "deny"),
    ],
)
async def test_a_no_in_words_declines_the_quote_whatever_the_nlu_made_of_it(
    backend: FakeBackend, text: str, intent: str
) -> None:
    resident_order(backend)
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuote().run(dispatcher, make_tracker(text, intent, slots=SHOWN, entities=[]), {})
    assert backend.confirmed_quotes == [] and "GD20261210000007" in backend.handoffs[0]["summary"]
    assert responses(dispatcher.messages) == ["utter_quote_declined"]


async def test_the_buttons_payload_answers_by_its_intent(backend: FakeBackend) -> None:
    resident_order(backend)
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuote().run(dispatcher, make_tracker("/deny", "deny", slots=SHOWN, entities=[]), {})
    assert backend.confirmed_quotes == [] and len(backend.handoffs) == 1


@pytest.mark.parametrize(("text", "intent"), [("能便宜点吗？", "ask_fee_standard"), ("满意", "rate_satisfaction")])
async def test_an_answer_that_says_neither_gets_the_two_options_again(
    backend: FakeBackend, text: str, intent: str
) -> None:
    resident_order(backend)
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerQuote().run(dispatcher, make_tracker(text, intent, slots=SHOWN, entities=[]), {})
    assert backend.confirmed_quotes == [] and backend.handoffs == []
    assert responses(dispatcher.messages) == ["utter_ask_quote_answer"] and events == []


# ---------------------------------------------------------------- a rating nobody asked for
async def test_agreeing_to_a_quote_is_never_thanked_for_as_an_evaluation(backend: FakeBackend) -> None:
    """#23: "同意" after the quote was classified a rating and answered "感谢您的评价！"."""
    resident_order(backend)
    dispatcher = CollectingDispatcher()
    await ActionNoteRating().run(dispatcher, make_tracker("同意", "rate_satisfaction", slots=SHOWN, entities=[]), {})
    assert responses(dispatcher.messages) == ["utter_quote_confirmed"]
    assert [q["order_id"] for q in backend.confirmed_quotes] == [7]


def survey_opened(seconds_ago: float) -> list[dict]:
    return [{"event": "active_loop", "name": "survey_form", "timestamp": time.time() - seconds_ago}]


@pytest.mark.parametrize(
    ("earlier", "said"),
    [
        ([], "utter_rating_without_survey"),  # nothing was asked: nothing to thank for
        (survey_opened(600), "utter_rating_noted"),  # a word after the call-back survey
        (survey_opened(3 * 24 * 3600), "utter_rating_without_survey"),  # that survey was days ago
    ],
)
async def test_a_rating_is_thanked_for_only_after_a_recent_survey(earlier: list[dict], said: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("满意", "rate_satisfaction", entities=[], earlier_events=earlier)
    await ActionNoteRating().run(dispatcher, tracker, {})
    assert responses(dispatcher.messages) == [said]
