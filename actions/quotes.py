"""A paid repair's quote, confirmed (or declined) by the resident in WeChat (10.2.2).

When staff record a quote, the backend asks the bot to show it (``EXTERNAL_quote_confirmation``, with the
order and the composed text). The bot remembers which order it showed (slot ``quote_order``, set only
by this action, which believes only the backend) and offers "1 同意" and "2 不同意"; the resident may
also say it in words ("是的", "不同意"). The order id never comes from what the resident types, and the
backend still confirms only for the order's own resident.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError
from actions.trust import triggered_by_backend

log = logging.getLogger(__name__)


def entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


def shown_quote(tracker: Tracker) -> dict[str, Any] | None:
    """The order whose quote the bot showed last, as the bot itself recorded it."""
    quote = tracker.get_slot("quote_order")
    return quote if isinstance(quote, dict) and isinstance(quote.get("id"), int) else None


class ActionAskQuoteConfirmation(Action):
    """Shows the quote the backend sent, with "confirm" and "decline" as numbered options."""

    def name(self) -> str:
        return "action_ask_quote_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order_id, message = entity(tracker, "order_id"), entity(tracker, "message")
        if not triggered_by_backend(tracker) or order_id is None or not message:
            log.warning("a quote was shown without the backend (conversation %s); ignored", tracker.sender_id)
            dispatcher.utter_message(response="utter_default")
            return [SlotSet("quote_order", None)]
        dispatcher.utter_message(
            text=str(message),
            buttons=[{"title": "同意报价，开始维修", "payload": "/affirm"}, {"title": "不同意", "payload": "/deny"}],
        )
        return [SlotSet("quote_order", {"id": int(order_id), "number": str(entity(tracker, "order_number") or "")})]


class ActionConfirmQuote(Action):
    """The resident's "yes": the backend records it for their own order only."""

    def name(self) -> str:
        return "action_confirm_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        quote = shown_quote(tracker)
        if quote is None:
            dispatcher.utter_message(response="utter_default")
            return []
        try:
            await BackendClient.from_env().confirm_quote(quote["id"], tracker.sender_id)
        except BackendError:
            log.warning("quote confirmation for order %s not recorded", quote["id"], exc_info=True)
            dispatcher.utter_message(response="utter_quote_not_recorded")
            return []
        dispatcher.utter_message(response="utter_quote_confirmed", number=quote["number"])
        return [SlotSet("quote_order", None)]


class ActionDeclineQuote(Action):
    """The resident's "no": the repair waits, and a person takes the chat to talk it over."""

    def name(self) -> str:
        return "action_decline_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        quote = shown_quote(tracker)
        if quote is None:
            dispatcher.utter_message(response="utter_default")
            return []
        summary = f"住户不同意工单 {quote['number']} 的维修报价（10.2.2），请联系说明。"
        try:
            await BackendClient.from_env().open_handoff(tracker.sender_id, "other", summary)
        except BackendError:
            log.warning("declined quote of %s not handed to staff", quote["number"], exc_info=True)
            dispatcher.utter_message(response="utter_quote_not_recorded")
            return []
        dispatcher.utter_message(response="utter_quote_declined", number=quote["number"])
        return [SlotSet("quote_order", None)]
