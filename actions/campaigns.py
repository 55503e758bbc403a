"""A call-back (10.1.8) or the yearly survey (14.3.2 e) in WeChat: the backend sends the question
(``EXTERNAL_campaign_question``, with the contact it is for); the bot shows it with 满意, 基本满意 and 不满意 as
numbered options and remembers the contact (slot ``campaign_contact``, set only by the asking action, which
believes only the backend). The message right after is the answer, read from its words whatever the NLU made
of it; the backend records it once, for the contact's own resident.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError
from actions.tracker import entity
from actions.trust import handover, repeated_handover, triggered_by_backend
from bot.parsing import campaign_rating

log = logging.getLogger(__name__)

SLOT = "campaign_contact"
BUTTONS = [("满意", "满意"), ("基本满意", "基本满意"), ("不满意", "不满意")]


class ActionAskCampaignQuestion(Action):
    def name(self) -> str:
        return "action_ask_campaign_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        contact_id, message = entity(tracker, "contact_id"), entity(tracker, "message")
        if not triggered_by_backend(tracker) or contact_id is None or not message:
            log.warning("a campaign question without the backend (conversation %s); ignored", tracker.sender_id)
            dispatcher.utter_message(response="utter_default")
            return [SlotSet(SLOT, None)]
        if repeated_handover(tracker):
            return []
        buttons = [{"title": title, "payload": payload} for title, payload in BUTTONS]
        dispatcher.utter_message(text=str(message), buttons=buttons, handover=handover(tracker))
        return [SlotSet(SLOT, {"id": int(contact_id)})]


class ActionAnswerCampaign(Action):
    """The answer to the question just asked: recorded and thanked for, or the three options again."""

    def name(self) -> str:
        return "action_answer_campaign"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        contact = tracker.get_slot(SLOT)
        if not isinstance(contact, dict) or not isinstance(contact.get("id"), int):
            dispatcher.utter_message(response="utter_anything_else")
            return []
        rating = campaign_rating(tracker.latest_message.get("text") or "")
        if rating is None:
            dispatcher.utter_message(response="utter_ask_campaign_answer")
            return []
        try:
            await BackendClient.from_env().answer_campaign(contact["id"], tracker.sender_id, rating)
        except BackendError:
            log.warning("the answer of campaign contact %s was not recorded", contact["id"], exc_info=True)
            dispatcher.utter_message(response="utter_campaign_not_recorded")
            return []
        dispatcher.utter_message(response="utter_campaign_thanks")
        return [SlotSet(SLOT, None)]
