"""Handing the chat to a person: on request, after two misunderstandings in a row, or on clear anger; and
asking instead of guessing when the NLU is unsure (the first misunderstanding)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    EventType,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError
from bot import knowledge
from bot.households import split_households
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

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, reason: str | None = None
    ) -> list[EventType]:
        reason = reason or handoff_reason(tracker)
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


# The actions that answer a message the bot did not understand (its own, and Rasa's core fallback when no
# rule answers an intent in this context).
MISUNDERSTOOD_BY = frozenset({"action_fallback", "action_default_fallback"})
# Intents never offered as a reading: they answer a question the bot asked, or say nothing to act on.
NOT_OFFERED = frozenset(
    {"nlu_fallback", "out_of_scope", "inform", "affirm", "deny", "cancel", "greet", "goodbye", "thank"}
)
# The mark a misunderstanding leaves on its turn, whichever action answered it (an outage question's
# "which community?" answered with something else is one too).
MISUNDERSTOOD = "misunderstood"
# The metadata key of a message said again as the reading the resident chose: the id of the message it
# clarified (the review queue keeps that message once; the bot's figures count it once).
SAID_AGAIN_OF = "said_again_of"
# At most this many readings are offered, each at least this likely: below it the message is noise.
MAX_READINGS = 3
READING_FLOOR = 0.1


def turns(tracker: Tracker) -> list[list[str]]:
    """The conversation's turns as the bot now holds them: per resident message, the actions run after it
    and the marks it left ("misunderstood"). Reverted messages are gone (a chosen reading replaces the
    message it clarified); a resumed or new session starts afresh."""
    held: list[list[str]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            held.append([])
        elif kind == "rewind" and held:
            held.pop()
        elif kind in ("restart", "session_started", "resume"):
            held = []
        elif kind == "action" and held and event.get("name") != "action_listen":
            held[-1].append(str(event.get("name")))
        elif kind == "slot" and held and event.get("name") == MISUNDERSTOOD and event.get("value"):
            held[-1].append(MISUNDERSTOOD)
    return held


def misunderstood_before(tracker: Tracker) -> bool:
    """Whether the bot did not understand the resident's previous message either."""
    held = turns(tracker)
    return len(held) >= 2 and any(name in MISUNDERSTOOD_BY or name == MISUNDERSTOOD for name in held[-2])


def likeliest_intent(tracker: Tracker) -> dict[str, Any]:
    """The latest message's intent; for a message the NLU was unsure of (``nlu_fallback``), its likeliest
    reading, which a filing still answers when it is a question (actions/filing/form.py)."""
    intent = tracker.latest_message.get("intent") or {}
    if intent.get("name") == "nlu_fallback":
        ranking = tracker.latest_message.get("intent_ranking") or []
        intent = next((r for r in ranking if r.get("name") != "nlu_fallback"), intent)
    return dict(intent)


def readings(tracker: Tracker) -> list[str]:
    """The likeliest intents the bot could offer for the latest message, most likely first."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    found = []
    for entry in ranking:
        name = entry.get("name")
        if name in NOT_OFFERED or knowledge.intent_label(str(name)) is None:
            continue
        if float(entry.get("confidence") or 0.0) < READING_FLOOR:
            break
        found.append(str(name))
        if len(found) == MAX_READINGS:
            break
    return found


# What a list of households is filed as when the NLU was unsure (11.4): its own reading, if it is one of these.
FILING_INTENTS = frozenset({"complain_room_temperature", "request_repair", "report_leak", "request_temperature_test"})


def filed_as_a_list(tracker: Tracker) -> list[EventType]:
    """A message naming two households or more, each with its address, whose likeliest reading is a filing,
    is a grid worker's list (11.4): it is said again as that reading, not asked about. Its households'
    own words say what each one needs ("暖气不热", "漏水"), which the filing reads one by one, so a list
    of unlike problems is no less a filing. Nothing (an empty list) for any other message."""
    reading = str(likeliest_intent(tracker).get("name") or "")
    message = tracker.latest_message
    text = str(message.get("text") or "")
    # counted as the filing counts them, an address without its community included (the grid worker's own
    # community, which this action does not look up, completes it there; a stand-in does here)
    if reading not in FILING_INTENTS or len(split_households(text, "某小区")) < 2:
        return []
    said = said_again(text, reading, message.get("entities") or [], message.get("message_id"), message.get("metadata"))
    # the turn taken back and the message said again, as the chosen reading of a clarification is
    return [UserUtteranceReverted(), ActionExecuted("action_listen"), said]


def said_again(
    text: str, intent: str, entities: list[dict[str, Any]], message_id: Any, metadata: dict[str, Any] | None
) -> UserUttered:
    """The resident's message said again as ``intent`` for certain, with its own words and details, under
    ``message_id`` and ``metadata`` (the channel finds the turn's answer by its id)."""
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "intent_ranking": [{"name": intent, "confidence": 1.0}],
        "entities": list(entities),
    }
    said = UserUttered(text, parse_data)
    said["message_id"] = message_id
    said["metadata"] = metadata or {}
    return said


class ActionFallback(Action):
    """The first misunderstanding asks which of the likeliest readings the resident meant (numbered, with
    "都不是，转人工"), or to rephrase when none is likely; the second in a row goes to a person. A list of
    households whose likeliest reading is a filing is filed, not asked about (``filed_as_a_list``)."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if listed := filed_as_a_list(tracker):
            return listed
        if misunderstood_before(tracker):
            return await ActionHandoff().run(dispatcher, tracker, domain, reason="fallback")
        offered = readings(tracker)
        if not offered:
            dispatcher.utter_message(response="utter_default")
            return [SlotSet(MISUNDERSTOOD, True)]
        buttons = [
            {"title": knowledge.intent_label(name), "payload": f'/choose_reading{{"reading": "{name}"}}'}
            for name in offered
        ]
        buttons.append({"title": "都不是，转人工", "payload": "/request_human"})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        message = tracker.latest_message
        kept = {
            "text": message.get("text") or "",
            "entities": message.get("entities") or [],
            "offered": offered,
            "message_id": message.get("message_id"),
        }
        return [SlotSet("clarifying", kept), SlotSet(MISUNDERSTOOD, True)]


class ActionDefaultFallback(ActionFallback):
    """Rasa's core fallback (no rule answers this intent here) counted as a misunderstanding too, so that
    two in a row reach a person whichever way the bot failed. The message is kept, not reverted."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if misunderstood_before(tracker):
            return await ActionHandoff().run(dispatcher, tracker, domain, reason="fallback")
        dispatcher.utter_message(response="utter_default")
        return [SlotSet(MISUNDERSTOOD, True)]


class ActionTakeReading(Action):
    """The resident chose one of the offered readings: the message is read again as that intent, with its
    own words and details, and the conversation goes on as if it had been understood the first time."""

    def name(self) -> str:
        return "action_take_reading"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        kept = tracker.get_slot("clarifying") or {}
        chosen = next(tracker.get_latest_entity_values("reading"), None)
        if not isinstance(kept, dict) or chosen not in (kept.get("offered") or []):
            # a number answered after the options changed, or a reading that was never offered
            dispatcher.utter_message(response="utter_default")
            return [SlotSet("clarifying", None)]
        # under the choice's own id and metadata, so that the channel finds this turn's answer by it
        message_id = tracker.latest_message.get("message_id")
        metadata = {
            **(tracker.latest_message.get("metadata") or {}),
            SAID_AGAIN_OF: kept.get("message_id") or message_id,
        }
        said = said_again(str(kept.get("text") or ""), str(chosen), kept.get("entities") or [], message_id, metadata)
        # Rasa's two-stage fallback does the same: both turns are taken back and the message said again.
        return [UserUtteranceReverted(), UserUtteranceReverted(), ActionExecuted("action_listen"), said]
