"""Handing the chat to a person: on request, after two misunderstandings in a row, or on clear anger."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError
from bot.operator import get_facts

log = logging.getLogger(__name__)


def recent_user_texts(tracker: Tracker, count: int = 5) -> list[str]:
    texts = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
    return texts[-count:]


def handoff_reason(tracker: Tracker) -> str:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if tracker.get_slot("anger"):
        return "anger"
    if intent == "request_human":
        return "requested"
    if intent == "nlu_fallback":
        return "fallback"
    return "other"


class ActionHandoff(Action):
    """Opens a handoff in the backend, tells the resident when a person answers, pauses the bot."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reason = handoff_reason(tracker)
        summary = "\n".join(recent_user_texts(tracker))
        facts = get_facts()
        try:
            await BackendClient.from_env().open_handoff(tracker.sender_id, reason, summary)
        except BackendError:
            # The person cannot see the chat: say so, keep the bot answering, give the hotline.
            log.exception("handoff could not be opened")
            hotline = facts.value("hotline")
            dispatcher.utter_message(text=f"抱歉，人工客服暂时无法接入，请拨打服务热线 {hotline}。")
            return [SlotSet("anger", None)]
        minutes = facts.human_reply_minutes
        hours = facts.value("human_service_hours")
        when = f"工作人员一般会在{minutes}分钟内回复（人工服务时间：{hours}），" if minutes else ""
        dispatcher.utter_message(response="utter_handoff", when=when)
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("anger", None), ConversationPaused()]


class ActionFallback(Action):
    """The first misunderstanding asks to rephrase; the second in a row goes to a person."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intents = [
            (e.get("parse_data") or {}).get("intent", {}).get("name")
            for e in tracker.events
            if e.get("event") == "user"
        ]
        if len(intents) >= 2 and intents[-1] == intents[-2] == "nlu_fallback":
            return await ActionHandoff().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_default")
        return []
