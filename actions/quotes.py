"""A paid repair's quote, confirmed (or declined) by the resident in WeChat (10.2.2).

When staff record a quote, the backend asks the bot to show it (``EXTERNAL_quote_confirmation``). The
bot offers "同意报价，开始维修" and "不同意" (``actions/confirmations.py`` shows, remembers and reads the
answer); the resident may also say it in words ("同意", "可以修", "行，修吧"; "不同意", "太贵了不修了"). A
"yes" is recorded by the backend for the order's own resident; a "no" leaves the repair waiting and hands
the chat to a person to talk it over.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import confirmations
from actions.backend import BackendClient
from bot.parsing import quote_answer


async def _confirm(client: BackendClient, order: dict[str, Any], tracker: Tracker) -> Any:
    return await client.confirm_quote(order["id"], tracker.sender_id)


async def _hand_over(client: BackendClient, order: dict[str, Any], tracker: Tracker) -> Any:
    summary = f"住户不同意工单 {order['number']} 的维修报价（10.2.2），请联系说明。"
    return await client.open_handoff(tracker.sender_id, "other", summary)


QUOTE = confirmations.Subject(
    name="quote",
    slot="quote_order",
    buttons=("同意报价，开始维修", "不同意"),
    words=quote_answer,
    confirm=_confirm,
    decline=_hand_over,
    confirmed="utter_quote_confirmed",
    declined="utter_quote_declined",
    ask_again="utter_ask_quote_answer",
    not_recorded="utter_quote_not_recorded",
)


def shown_quote(tracker: Tracker) -> dict[str, Any] | None:
    """The order whose quote the bot showed last, as the bot itself recorded it."""
    return confirmations.shown(tracker, QUOTE)


class ActionAskQuoteConfirmation(Action):
    """Shows the quote the backend sent, with "confirm" and "decline" as numbered options."""

    def name(self) -> str:
        return "action_ask_quote_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return confirmations.ask(dispatcher, tracker, QUOTE)


class ActionAnswerQuote(Action):
    """The message right after a quote is its answer: confirmed, declined, or the two options once more."""

    def name(self) -> str:
        return "action_answer_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await confirmations.answer(dispatcher, tracker, QUOTE)
