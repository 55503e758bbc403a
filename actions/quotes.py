"""A paid repair's quote, confirmed (or declined) by the resident in WeChat (10.2.2).

When staff record a quote, the backend asks the bot to show it (``EXTERNAL_quote_confirmation``, with the
order and the composed text). The bot remembers which order it showed (slot ``quote_order``, set only
by this action, which believes only the backend) and offers "1 同意" and "2 不同意"; the resident may
also say it in words ("同意", "可以修", "行，修吧"; "不同意", "太贵了不修了"), which decide before the intent the
NLU gave them ("同意" reads like a satisfaction rating). The order id never comes from what the resident types, and the
backend still confirms only for the order's own resident.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError
from actions.tracker import entity
from actions.trust import handover, repeated_handover, triggered_by_backend
from bot.parsing import quote_answer

log = logging.getLogger(__name__)


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
        if repeated_handover(tracker):
            log.info("quote of order %s was shown already (conversation %s)", order_id, tracker.sender_id)
            return []
        dispatcher.utter_message(
            text=str(message),
            buttons=[{"title": "同意报价，开始维修", "payload": "/affirm"}, {"title": "不同意", "payload": "/deny"}],
            handover=handover(tracker),
        )
        return [SlotSet("quote_order", {"id": int(order_id), "number": str(entity(tracker, "order_number") or "")})]


async def answer_quote(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    record: Callable[[BackendClient, dict[str, Any]], Awaitable[Any]],
    done: str,
) -> list[EventType]:
    """The resident's answer to the quote the bot showed: recorded by the backend, then said back.

    Without a quote shown there is nothing to answer; a backend that fails is said plainly, and the
    quote stays shown so the resident can answer again.
    """
    quote = shown_quote(tracker)
    if quote is None:
        dispatcher.utter_message(response="utter_default")
        return []
    try:
        await record(BackendClient.from_env(), quote)
    except BackendError:
        log.warning("the answer to the quote of %s was not recorded", quote["number"], exc_info=True)
        dispatcher.utter_message(response="utter_quote_not_recorded")
        return []
    dispatcher.utter_message(response=done, number=quote["number"])
    return [SlotSet("quote_order", None)]


async def confirm_quote(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The resident's "yes": the backend records it for their own order only (10.2.2)."""

    async def confirm(client: BackendClient, quote: dict[str, Any]) -> Any:
        return await client.confirm_quote(quote["id"], tracker.sender_id)

    return await answer_quote(dispatcher, tracker, confirm, "utter_quote_confirmed")


async def decline_quote(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The resident's "no": the repair waits, and a person takes the chat to talk it over."""

    async def hand_over(client: BackendClient, quote: dict[str, Any]) -> Any:
        summary = f"住户不同意工单 {quote['number']} 的维修报价（10.2.2），请联系说明。"
        return await client.open_handoff(tracker.sender_id, "other", summary)

    return await answer_quote(dispatcher, tracker, hand_over, "utter_quote_declined")


# What the classifier's intent says when the words alone do not ("/affirm" from the button, "嗯嗯").
INTENT_VERDICTS = {"affirm": True, "deny": False, "cancel": False}


def verdict(tracker: Tracker) -> bool | None:
    """The resident's answer to the quote: their words first ("同意" is often classified as a rating,
    "行，修吧" as a repair request), then the intent of a plain yes or no; None when neither says."""
    text = tracker.latest_message.get("text") or ""
    said = quote_answer(text) if not text.startswith("/") else None
    if said is not None:
        return said
    return INTENT_VERDICTS.get((tracker.latest_message.get("intent") or {}).get("name", ""))


class ActionAnswerQuote(Action):
    """The message right after a quote is its answer, whatever the NLU made of it: confirmed, declined,
    or, when it says neither, the two options once more."""

    def name(self) -> str:
        return "action_answer_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        quote = shown_quote(tracker)
        if quote is None:  # answered already ("好的" after the confirmation): nothing is pending
            dispatcher.utter_message(response="utter_anything_else")
            return []
        answer = verdict(tracker)
        if answer is True:
            return await confirm_quote(dispatcher, tracker)
        if answer is False:
            return await decline_quote(dispatcher, tracker)
        dispatcher.utter_message(response="utter_ask_quote_answer", number=quote["number"])
        return []
