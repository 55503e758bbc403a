"""The filing form's validation: it asks only what the order needs, checks each answer, takes corrections
and questions in the middle, and offers a person after two failed tries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import answers as answering
from actions import clock
from actions.filing.slots import (
    ASAP,
    HOUSEHOLD_ORDERS,
    MAX_FAILED_TRIES,
    QUESTION_CONFIDENCE,
    QUESTION_INTENTS,
    UNKNOWN_WORDS,
    YES_NO_SLOTS,
    corrected_this_turn,
    needs_appointment,
    needs_temperature,
    reset_filing,
)
from actions.handoff import likeliest_intent
from actions.tracker import business_type_of, entity, value_before_turn
from bot import knowledge
from bot.households import with_community
from bot.operator import get_facts
from bot.parsing import (
    appointment_problem,
    appointment_start,
    corrected_address,
    is_asap,
    is_cancel,
    is_correction,
    parse_appointment,
    parse_phone,
    parse_resident_address,
    parse_temperature,
)
from heating_standard.orders import BusinessType
from heating_standard.words import RESIDENT_CATEGORY_WORDS, kind_word, word


def answers(slot: str, tracker: Tracker, now: datetime) -> bool:
    """Whether the latest message is a usable answer to the form's question ``slot``: a message that is
    both (an address the NLU took for a question, "报停怎么办" when the business is asked) is the answer."""
    text = tracker.latest_message.get("text") or ""
    if slot == "business_type":
        return entity(tracker, "business_type") in knowledge.BUSINESS_TYPES
    if slot == "address":
        return parse_resident_address(text).complete
    if slot == "phone":
        return parse_phone(text) is not None
    if slot == "appointment":
        return is_asap(text) or parse_appointment(text, now) is not None
    if slot == "measured_temperature":
        return parse_temperature(text) is not None
    return False


def say_corrected_address(dispatcher: CollectingDispatcher, corrected: str) -> None:
    dispatcher.utter_message(text=f"好的，地址已改为：{corrected}")


class ValidateFilingForm(FormValidationAction):
    """Asks only what the order needs and checks each answer; two failed tries offer a person."""

    def name(self) -> str:
        return "validate_filing_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """ "算了，不报了" at any question stops the filing, whatever the NLU made of it: nothing is filed
        and the bot says so in one sentence (the form ends; action_file_work_order files nothing)."""
        asked = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        if asked and is_cancel(text, after_yes_no=asked in YES_NO_SLOTS):
            dispatcher.utter_message(response="utter_filing_cancelled")
            return [*reset_filing(), SlotSet("requested_slot", None)]
        if tracker.get_slot("households") and (tracker.latest_message.get("intent") or {}).get("name") == "deny":
            # a list is not corrected household by household: nothing is filed, the grid worker resends it
            dispatcher.utter_message(response="utter_households_not_filed")
            return [*reset_filing(), SlotSet("requested_slot", None)]
        corrected = self._problem_corrected(asked, dispatcher, tracker)
        if corrected is not None:
            return corrected
        # unsure enough to ask outside a form; inside one, a likely question is still answered (below)
        intent = likeliest_intent(tracker)
        if (
            asked
            and intent.get("name") in QUESTION_INTENTS
            and float(intent.get("confidence") or 0) >= QUESTION_CONFIDENCE
            and not answers(asked, tracker, clock.now())
        ):
            # "供暖到几月？" while the address is asked: answered, then the same question again
            await self._answer(str(intent["name"]), dispatcher, tracker, domain)
            return [SlotSet(asked, None), SlotSet("requested_slot", asked)]
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        return events

    def _problem_corrected(
        self, asked: str | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType] | None:
        """ "不是漏水，是不热" at any question, the summary included: the order becomes what the resident
        says it is (a cold-room complaint, not a leak repair), the description keeps the correction, and
        the form asks what the new kind still needs (a leak asks no visit time; a cold room asks the
        temperature measured)."""
        text = tracker.latest_message.get("text") or ""
        found = entity(tracker, "category")
        kind, category = tracker.get_slot("order_kind"), tracker.get_slot("category")
        if not asked or kind not in ("complaint", "repair") or found not in HOUSEHOLD_ORDERS or not is_correction(text):
            return None
        new_kind, new_category = HOUSEHOLD_ORDERS[found]
        if (new_kind, new_category) == (kind, category):
            return None
        if new_category == "leak":
            dispatcher.utter_message(text=knowledge.answer("leak_safety", get_facts(), clock.now().date()))
        problem = word(RESIDENT_CATEGORY_WORDS, new_category)
        dispatcher.utter_message(text=f"好的，问题已改为：{problem}（{kind_word(new_kind)}）。")
        description = f"{tracker.get_slot('description') or ''}（更正：{text}）"[:4000]
        events: list[EventType] = [
            SlotSet("order_kind", new_kind),
            SlotSet("category", new_category),
            SlotSet("description", description),
            SlotSet(asked, None),
        ]
        values = {**tracker.slots, "description": description, asked: None}
        missing = (slot for slot in self._slots_for(tracker, new_kind, new_category) if values.get(slot) is None)
        return [*events, SlotSet("requested_slot", next(missing, "filing_confirmed"))]

    async def _answer(
        self, intent: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> None:
        if intent == "query_work_order":
            await answering.ActionListWorkOrders().run(dispatcher, tracker, domain)
        elif intent == "ask_outage":
            await answering.ActionAnswerOutage().run(dispatcher, tracker, domain)
        elif intent == "ask_privacy":  # "我的电话会泄露吗" while the phone is asked: 12.1, and the filing goes on
            dispatcher.utter_message(text=knowledge.answer("privacy", get_facts(), clock.now().date()))
        elif intent == "ask_business_process":  # the answer alone: the offer to file would cross this filing
            kind = business_type_of(tracker)
            dispatcher.utter_message(text=knowledge.business_answer(kind, get_facts(), clock.now().date()))
        else:
            await answering.ActionAnswerQuestion().run(dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return self._slots_for(tracker, tracker.get_slot("order_kind"), tracker.get_slot("category"))

    def _slots_for(self, tracker: Tracker, kind: str | None, category: str | None) -> list[str]:
        """What is asked, in order, for an order of this kind and category."""
        if tracker.get_slot("households"):
            return ["filing_confirmed"]  # each household's details came in the grid worker's message
        slots: list[str] = []
        if not tracker.get_slot("description"):
            slots.append("description")
        # still asked while this turn's "no" is being validated (it clears contact_known)
        if tracker.get_slot("contact_known") and tracker.get_slot("contact_confirmed") is not True:
            slots.append("contact_confirmed")
        if kind == "business":
            slots.append("business_type")
            if tracker.get_slot("business_type") == BusinessType.APPLY_CONNECTION:
                slots.append("external_works")  # 9.1.4: 1 day, or 3 with works outside the building
        slots += ["address", "phone"]
        if needs_temperature(kind, category):
            slots.append("measured_temperature")
        if needs_appointment(kind, category):
            slots.append("appointment")
        slots.append("filing_confirmed")
        return slots

    def _failed(self, tracker: Tracker, dispatcher: CollectingDispatcher, slot: str, response: str) -> dict[str, Any]:
        dispatcher.utter_message(response=response)
        tries = float(tracker.get_slot("failed_attempts") or 0) + 1
        if tries >= MAX_FAILED_TRIES:
            dispatcher.utter_message(response="utter_offer_human")
        return {slot: None, "failed_attempts": tries}

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < 2 or text.startswith("/"):
            return self._failed(tracker, dispatcher, "description", "utter_ask_description")
        return {"description": text[:4000], "failed_attempts": 0.0}

    def validate_contact_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is False and corrected_this_turn(tracker):
            return {"contact_confirmed": True}  # "不对，是5号楼": the corrected details stand
        if value is False:
            return {"contact_confirmed": False, "contact_known": False, "address": None, "phone": None}
        return {"contact_confirmed": True}

    def validate_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        raw = str(value or "")
        parsed = parse_resident_address(raw)
        completed = with_community(parsed, tracker.get_slot("grid_community"))
        text = tracker.latest_message.get("text") or ""
        previous = value_before_turn(tracker, "address")
        if previous and (is_correction(text) or not parsed.complete):
            # "不是3号楼是5号楼": the parts named replace those of the address taken down
            corrected = corrected_address(str(previous), text)
            if corrected is not None:
                say_corrected_address(dispatcher, corrected)
                return {"address": corrected, "failed_attempts": 0.0}
        if not parsed.complete and completed.complete:
            return {"address": completed.canonical, "failed_attempts": 0.0}  # the grid worker's community
        if not parsed.complete:
            return self._failed(tracker, dispatcher, "address", "utter_invalid_address")
        # the span is where the address stands in what was given (leading spaces included)
        return {"address": raw[slice(*parsed.span)] if parsed.span else parsed.text, "failed_attempts": 0.0}

    def _address_corrected_instead(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any] | None:
        """ "不对，是5号楼，不是3号楼" while another question is asked: the address is corrected and the
        question asked again, instead of calling the message a bad answer to it."""
        text = tracker.latest_message.get("text") or ""
        address = value_before_turn(tracker, "address")
        if not address or not is_correction(text):
            return None
        corrected = corrected_address(str(address), text)
        if corrected is not None and "address" in tracker.slots_to_validate():
            return {slot: None}  # the address itself is validated this turn and says the correction
        if corrected is None or corrected == address:
            return None
        say_corrected_address(dispatcher, corrected)
        return {slot: None, "address": corrected}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = parse_phone(str(value or ""))
        if phone is None:
            instead = self._address_corrected_instead("phone", dispatcher, tracker)
            return instead or self._failed(tracker, dispatcher, "phone", "utter_invalid_phone")
        return {"phone": phone, "failed_attempts": 0.0}

    def validate_measured_temperature(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, (int, float)):
            degrees: float | None = float(value)
        else:
            text = str(value or "")
            if any(word in text for word in UNKNOWN_WORDS):
                return {"measured_temperature": "unknown", "failed_attempts": 0.0}
            degrees = parse_temperature(text)
            if degrees is None and text.strip().replace(".", "", 1).isdigit():
                degrees = float(text.strip())
        if degrees is None or not -10 <= degrees <= 35:
            instead = self._address_corrected_instead("measured_temperature", dispatcher, tracker)
            return instead or self._failed(tracker, dispatcher, "measured_temperature", "utter_invalid_temperature")
        return {"measured_temperature": degrees, "failed_attempts": 0.0}

    def validate_appointment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        now = clock.now()
        if value == ASAP or is_asap(str(value or "")) or is_asap(tracker.latest_message.get("text") or ""):
            return {"appointment": ASAP, "failed_attempts": 0.0}  # 10.2.4: within 30 minutes
        window = parse_appointment(str(value or ""), now)
        if appointment_problem(window, now) is not None or window is None:
            instead = self._address_corrected_instead("appointment", dispatcher, tracker)
            return instead or self._failed(tracker, dispatcher, "appointment", "utter_invalid_appointment")
        return {"appointment": appointment_start(window, now).isoformat(), "failed_attempts": 0.0}

    def validate_business_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value not in knowledge.BUSINESS_TYPES:
            return self._failed(tracker, dispatcher, "business_type", "utter_invalid_business_type")
        dispatcher.utter_message(text=knowledge.business_answer(str(value), get_facts(), clock.now().date()))
        return {"business_type": value}

    def validate_filing_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is False and corrected_this_turn(tracker):
            return {"filing_confirmed": None}  # a correction, not a "no": confirm the new summary
        if value is False:
            dispatcher.utter_message(response="utter_filing_restart")
            return {
                "filing_confirmed": None,
                "address": None,
                "phone": None,
                "appointment": None,
                "contact_known": False,
                "contact_confirmed": None,
            }
        return {"filing_confirmed": True}
