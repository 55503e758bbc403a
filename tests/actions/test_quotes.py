"""A paid repair's quote in WeChat (10.2.2): shown with two options, confirmed or declined by the resident."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.quotes import ActionAskQuoteConfirmation, ActionConfirmQuote, ActionDeclineQuote
from tests.actions.conftest import FROM_BACKEND, make_tracker, responses
from tests.actions.fake_backend import FakeBackend

QUOTE = "【维修报价】工单 GD20261210000007 的维修项目：\n· 更换暖气阀门（DN20铜阀） ×2，单价 45.50 元\n合计 91.00 元。"
ORDER = [
    {"entity": "order_id", "value": 7},
    {"entity": "order_number", "value": "GD20261210000007"},
]


async def test_the_quote_is_shown_with_options_that_name_the_order() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "",
        "EXTERNAL_quote_confirmation",
        entities=[*ORDER, {"entity": "message", "value": QUOTE}],
        metadata=FROM_BACKEND,
    )
    await ActionAskQuoteConfirmation().run(dispatcher, tracker, {})
    shown = dispatcher.messages[0]
    assert shown["text"] == QUOTE
    assert [b["payload"] for b in shown["buttons"]] == [
        '/confirm_quote{"order_id": 7, "order_number": "GD20261210000007"}',
        '/decline_quote{"order_id": 7, "order_number": "GD20261210000007"}',
    ]


async def test_a_quote_not_from_the_backend_is_not_shown() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("", "EXTERNAL_quote_confirmation", entities=[*ORDER, {"entity": "message", "value": QUOTE}])
    await ActionAskQuoteConfirmation().run(dispatcher, tracker, {})
    assert responses(dispatcher.messages) == ["utter_default"]


async def test_the_residents_yes_confirms_their_own_order(backend: FakeBackend) -> None:
    backend.orders.append(
        {"id": 7, "number": "GD20261210000007", "status": "arrived", "resident_openid": "oRESIDENT0001"}
    )
    dispatcher = CollectingDispatcher()
    await ActionConfirmQuote().run(dispatcher, make_tracker("1", "confirm_quote", entities=ORDER), {})
    assert backend.confirmed_quotes[0]["order_id"] == 7
    assert backend.confirmed_quotes[0]["resident_openid"] == "oRESIDENT0001"
    assert responses(dispatcher.messages) == ["utter_quote_confirmed"]


async def test_another_residents_order_is_not_confirmed(backend: FakeBackend) -> None:
    backend.orders.append({"id": 7, "number": "GD20261210000007", "status": "arrived", "resident_openid": "oOTHER"})
    dispatcher = CollectingDispatcher()
    await ActionConfirmQuote().run(dispatcher, make_tracker("1", "confirm_quote", entities=ORDER), {})
    assert backend.confirmed_quotes == []
    assert responses(dispatcher.messages) == ["utter_quote_not_recorded"]


async def test_the_residents_no_hands_the_chat_to_staff(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    await ActionDeclineQuote().run(dispatcher, make_tracker("2", "decline_quote", entities=ORDER), {})
    assert "GD20261210000007" in backend.handoffs[0]["summary"]
    assert responses(dispatcher.messages) == ["utter_quote_declined"]
