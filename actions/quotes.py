"""A paid repair's quote, confirmed (or declined) by the resident in WeChat (10.2.2).

When staff record a quote, the backend asks the bot to show it (``EXTERNAL_quote_confirmation``, with the
order and the composed text). The bot offers two numbered options whose payloads name the order; the
WeChat channel maps the resident's "1" or "2" back to them, so the order id never comes from typed text.
The backend still confirms only for the order's own resident.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError
from actions.trust import triggered_by_backend

log = logging.getLogger(__name__)


def entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


def option(intent: str, order_id: int, number: str) -> str:
    """A button payload naming the order (Rasa's ``/intent{entities}``, produced by the bot only)."""
    return f"/{intent}{json.dumps({'order_id': order_id, 'order_number': number}, ensure_ascii=False)}"


class ActionAskQuoteConfirmation(Action):
    """Shows the quote the backend sent, with "confirm" and "decline" as numbered options."""

    def name(self) -> str:
        return "action_ask_quote_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order_id, number, message = (
            entity(tracker, "order_id"),
            entity(tracker, "order_number"),
            entity(tracker, "message"),
        )
        if not triggered_by_backend(tracker) or order_id is None or not message:
            log.warning("a quote was shown without the backend (conversation %s); ignored", tracker.sender_id)
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(
            text=str(message),
            buttons=[
                {"title": "同意报价，开始维修", "payload": option("confirm_quote", int(order_id), str(number))},
                {"title": "不同意", "payload": option("decline_quote", int(order_id), str(number))},
            ],
        )
        return []


class ActionConfirmQuote(Action):
    """The resident's "yes": the backend records it for their own order only."""

    def name(self) -> str:
        return "action_confirm_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order_id, number = entity(tracker, "order_id"), entity(tracker, "order_number")
        if order_id is None:
            dispatcher.utter_message(response="utter_default")
            return []
        try:
            await BackendClient.from_env().confirm_quote(int(order_id), tracker.sender_id)
        except BackendError:
            log.warning("quote confirmation for order %s not recorded", order_id, exc_info=True)
            dispatcher.utter_message(response="utter_quote_not_recorded")
            return []
        dispatcher.utter_message(response="utter_quote_confirmed", number=number or "")
        return []


class ActionDeclineQuote(Action):
    """The resident's "no": the repair waits, and a person takes the chat to talk it over."""

    def name(self) -> str:
        return "action_decline_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number = entity(tracker, "order_number") or ""
        summary = f"住户不同意工单 {number} 的维修报价（10.2.2），请联系说明。"
        try:
            await BackendClient.from_env().open_handoff(tracker.sender_id, "other", summary)
        except BackendError:
            log.warning("declined quote of %s not handed to staff", number, exc_info=True)
            dispatcher.utter_message(response="utter_quote_not_recorded")
            return []
        dispatcher.utter_message(response="utter_quote_declined", number=number)
        return []
