"""Filing a complaint, repair, temperature test or business request: the form and the order.

The order's kind and category come from the intent that started the filing; the form asks only for
what that kind needs, confirms known residents' details instead of asking again, and shows a summary
before anything is filed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendClient, BackendError, BackendRejected, BackendUnavailable, WorkOrder
from actions.handoff import likeliest_intent
from actions.spool import FilingSpool
from bot import knowledge
from bot.households import split_households, with_community
from bot.operator import get_facts
from bot.parsing import (
    LOCAL_TZ,
    appointment_problem,
    appointment_start,
    asks_asap,
    corrected_address,
    is_asap,
    is_cancel,
    is_correction,
    parse_appointment,
    parse_phone,
    parse_resident_address,
    parse_temperature,
)
from bot.wording import duration_zh, local_text
from heating_standard.lifecycle import deadline_label
from heating_standard.orders import BusinessType

log = logging.getLogger(__name__)

# intent -> (order kind, category)
FILING_INTENTS: dict[str, tuple[str, str]] = {
    "complain_room_temperature": ("complaint", "room_temperature"),
    "complain_service": ("complaint", "service"),
    "report_leak": ("repair", "leak"),
    "request_repair": ("repair", "equipment"),
    "request_temperature_test": ("temperature_test", "room_temperature"),
    "ask_business_process": ("business", "other"),
}
# The NLU's ``category`` entity may make the intent's category more precise: a cold-room complaint
# that is "一点都不热" is no heat at all, a service complaint about "乱收费" is about billing, and a
# repair that mentions water running out is a leak (urgent: the backend applies heating_standard.orders.is_urgent).
REFINEMENTS: dict[str, frozenset[str]] = {
    "room_temperature": frozenset({"no_heat"}),
    "service": frozenset({"billing"}),
    "equipment": frozenset({"leak"}),
}
# The slots a resident may correct mid-form in one message ("不是3号楼是5号楼", "电话改成…").
CORRECTABLE = ("address", "phone", "appointment", "measured_temperature")
KIND_NAMES = {"complaint": "投诉", "repair": "报修", "temperature_test": "入户测温", "business": "业务办理"}
FILING_SLOTS = (
    "order_kind",
    "category",
    "description",
    "address",
    "phone",
    "measured_temperature",
    "appointment",
    "business_type",
    "external_works",
    "contact_confirmed",
    "contact_known",
    "filing_confirmed",
    "failed_attempts",
    "households",
    "grid_community",
)
# A household's own words decide what its order is when a grid worker lists several (11.4):
# "6号楼602漏水，7号楼301不热" is one leak repair and one cold-room complaint.
HOUSEHOLD_ORDERS: dict[str, tuple[str, str]] = {
    "leak": ("repair", "leak"),
    "equipment": ("repair", "equipment"),
    "no_heat": ("complaint", "no_heat"),
    "room_temperature": ("complaint", "room_temperature"),
    "billing": ("complaint", "billing"),
    "service": ("complaint", "service"),
}
# What the resident is told the problem now is, after a correction.
PROBLEM_NAMES = {
    "leak": "漏水",
    "equipment": "设施损坏",
    "no_heat": "完全不热",
    "room_temperature": "室温不够",
    "billing": "收费问题",
    "service": "服务问题",
}
# At most this many households in one grid worker's list: one confirmation files them all, and the
# summary of ten already fills a WeChat message.
MAX_HOUSEHOLDS = 10
MAX_FAILED_TRIES = 2
# The form's yes/no questions: a plain "不用了" there is the answer "no".
YES_NO_SLOTS = frozenset({"contact_confirmed", "external_works"})
# Questions answered in the middle of a filing; the form then asks its own question again.
QUESTION_INTENTS = frozenset(
    {
        "ask_heating_period",
        "ask_temperature_standard",
        "ask_fee_standard",
        "ask_payment",
        "ask_refund",
        "ask_heat_meter",
        "ask_service_contact",
        "ask_compensation",
        "ask_contract",
        "ask_relief_policy",
        "ask_fee_reduction",
        "ask_complaint_process",
        "ask_repair_process",
        "ask_privacy",
        "ask_outage",
        "ask_business_process",
        "query_work_order",
    }
)
# On the development set 179 of 195 questions rightly recognised reach 0.4, against 146 at 0.6; a
# usable answer taken for a question is still taken as the answer (``answers``).
QUESTION_CONFIDENCE = 0.4
# After this many automatic re-submissions the resident is told a person will follow it up; the
# retries go on.
STILL_DOWN_AFTER = 5
UNKNOWN_WORDS = ("不知道", "不清楚", "没有温度计", "没测", "跳过", "不确定")
# The appointment slot's value when the resident wants the visit as soon as possible ("尽快", "现在就来"):
# the order is filed without an appointment, and the backend's arrival deadline is 30 minutes after
# acceptance (10.2.4, heating_standard.deadlines.compute_deadlines).
ASAP = "asap"


def now_local() -> datetime:
    return datetime.now(LOCAL_TZ)


def form_opened_at(tracker: Tracker) -> Any:
    """When the filing form now ending was opened (its ActiveLoop event's time), or None."""
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name"):
            return event.get("timestamp")
    return None


def idempotency_key(tracker: Tracker, payloads: list[dict[str, Any]]) -> str:
    """One key per filing: the conversation, the moment its form opened and what is filed.

    A retried turn files no second order; nor does a confirmation given again after a restart lost the
    answer to the first (the order was filed, the resident heard nothing and says "是的" once more: the
    backend answers with the order filed then). A filing whose details changed is another order. Without
    a form (a filing started some other way) the confirming message stands for the moment."""
    opened = form_opened_at(tracker)
    if opened is None:
        opened = [tracker.latest_message.get("message_id") or "", tracker.latest_message.get("text", "")]
    raw = json.dumps([tracker.sender_id, opened, payloads], ensure_ascii=False, sort_keys=True, default=str)
    return "conv-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def entity(tracker: Tracker, name: str) -> Any:
    """The first value of entity ``name`` in the latest message, or None."""
    return next(tracker.get_latest_entity_values(name), None)


def choose_category(default: str, found: Any) -> str:
    """The intent's category, unless the wording points to a more precise one it allows."""
    return str(found) if found in REFINEMENTS.get(default, frozenset()) else default


def needs_appointment(kind: str | None, category: str | None) -> bool:
    """Visits are booked for repairs (a leak is handled at once, 10.1.4) and temperature tests."""
    return kind == "temperature_test" or (kind == "repair" and category != "leak")


def booked_visit(kind: str | None, category: str | None, appointment: Any) -> str | None:
    """The appointed time to send, or None: no visit is booked for this kind, or the resident asked for
    the repairer as soon as possible (10.2.4: within 30 minutes of acceptance)."""
    if not appointment or appointment == ASAP or not needs_appointment(kind, category):
        return None
    return str(appointment)


def needs_temperature(kind: str | None, category: str | None) -> bool:
    """A cold-room complaint asks what the resident measured (5.1, 5.4.6)."""
    return kind == "complaint" and category in ("room_temperature", "no_heat")


def value_before_turn(tracker: Tracker, slot: str) -> Any:
    """What ``slot`` held before the latest message, whatever this turn set it to."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:last_user]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def corrected_this_turn(tracker: Tracker) -> bool:
    """True when the latest message changed a detail already taken down (a mid-form correction)."""
    changed = tracker.slots_to_validate()
    return any(
        name in changed and changed[name] is not None and value_before_turn(tracker, name) is not None
        for name in CORRECTABLE
    )


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


def reset_filing() -> list[EventType]:
    return [SlotSet(name, None) for name in FILING_SLOTS]


class ActionStartFiling(Action):
    """Sets what is filed from the intent, says what applies (5.1, 10.2.3, 10.3), recalls the resident."""

    def name(self) -> str:
        return "action_start_filing"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        if intent not in FILING_INTENTS:  # "yes" to an offer to file (e.g. after a business answer)
            intent = tracker.get_slot("offered_filing") or intent
        kind, category = FILING_INTENTS.get(intent, ("consultation", "other"))
        category = choose_category(category, entity(tracker, "category"))
        text = tracker.latest_message.get("text") or ""
        facts = get_facts()
        now = now_local()
        today = now.date()
        if category == "leak":
            dispatcher.utter_message(text=knowledge.answer("leak_safety", facts, today))
        elif needs_temperature(kind, category):
            dispatcher.utter_message(text=knowledge.answer("temperature_complaint_intro", facts, today))
        elif kind == "temperature_test":
            dispatcher.utter_message(text=knowledge.answer("temperature_test_intro", facts, today))
        events: list[EventType] = reset_filing() + [
            SlotSet("offered_filing", None),
            SlotSet("order_kind", kind),
            SlotSet("category", category),
            # a filing started from a menu button ("/request_repair") has no words yet: the form asks
            SlotSet("description", None if text.startswith("/") else text),
            SlotSet("failed_attempts", 0.0),
        ]
        # Details already in the first message (the NLU's entities) are not asked for again.
        temperature = parse_temperature(str(entity(tracker, "temperature") or text))
        if temperature is not None and needs_temperature(kind, category):
            events.append(SlotSet("measured_temperature", temperature))
        phone = parse_phone(str(entity(tracker, "phone") or text))
        if phone:
            events.append(SlotSet("phone", phone))
        address = parse_resident_address(str(entity(tracker, "address") or ""))
        if address.complete:
            events.append(SlotSet("address", address.canonical))
        time = entity(tracker, "time")
        window = parse_appointment(str(time), now) if time and needs_appointment(kind, category) else None
        if window is not None and appointment_problem(window, now) is None:
            events.append(SlotSet("appointment", appointment_start(window, now).isoformat()))
        elif window is None and needs_appointment(kind, category) and asks_asap(text):
            events.append(SlotSet("appointment", ASAP))  # "尽快来修" in the first message: 10.2.4's 30 minutes
        business_type = tracker.get_slot("business_type")
        if business_type in knowledge.BUSINESS_TYPES:
            events.append(SlotSet("business_type", business_type))
        given = {e["name"] for e in events if e.get("event") == "slot" and e.get("value") is not None}
        worker, recalled = await self._recall(tracker.sender_id, dispatcher)
        if {"address", "phone"} & given:
            # the message named its own details: use them, do not ask to confirm the remembered ones
            recalled = [e for e in recalled if e.get("name") not in ("address", "phone", "contact_known")]
        if worker is not None:
            recalled += self._for_grid_worker(worker, text, tracker, dispatcher, "address" in given)
        return events + recalled

    async def _recall(
        self, openid: str, dispatcher: CollectingDispatcher
    ) -> tuple[dict[str, Any] | None, list[EventType]]:
        """Grid workers file for someone else; a known resident confirms instead of typing again."""
        client = BackendClient.from_env()
        try:
            worker = await client.grid_worker(openid)
            if worker:
                dispatcher.utter_message(text="您是登记的网格员，我将为住户代为登记。")
                return worker, [SlotSet("is_grid_worker", True)]
            resident = await client.resident(openid)
        except BackendError:
            log.warning("resident lookup failed; asking for the details instead", exc_info=True)
            return None, [SlotSet("is_grid_worker", False)]
        events: list[EventType] = [SlotSet("is_grid_worker", False)]
        if resident and resident.get("addresses") and resident.get("phone"):
            address = resident["addresses"][0]["text"]
            events += [SlotSet("address", address), SlotSet("phone", resident["phone"]), SlotSet("contact_known", True)]
        return None, events

    def _for_grid_worker(
        self,
        worker: dict[str, Any],
        text: str,
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
        address_given: bool,
    ) -> list[EventType]:
        """Several households in one message are listed for one confirmation; an address without its
        community ("6号楼1单元602") is completed with the grid worker's, when they look after just one."""
        communities = worker.get("communities") or []
        own = str(communities[0]) if len(communities) == 1 else None
        events: list[EventType] = [SlotSet("grid_community", own)]
        households = split_households(text, own)
        if len(households) > MAX_HOUSEHOLDS:
            # nothing is filed and no form asks: the grid worker sends the list again in parts
            dispatcher.utter_message(
                text=f"这条消息列了{len(households)}户，一次最多登记{MAX_HOUSEHOLDS}户。"
                f"这次没有登记，请分成几条发给我，每条{MAX_HOUSEHOLDS}户以内。"
            )
            return [*reset_filing(), FollowupAction("action_listen")]
        if len(households) >= 2:
            # a household that left no number is reached through the grid worker who forwarded it
            listed = [
                {
                    "address": h.address,
                    "phone": h.phone or worker.get("phone"),
                    "phone_of_worker": not h.phone and bool(worker.get("phone")),
                    "category": h.category,
                    "note": h.note if h.phone else f"{h.note}（住户未留电话，联系电话为转办网格员的）",
                }
                for h in households
            ]
            return events + [SlotSet("households", listed), SlotSet("address", None), SlotSet("phone", None)]
        address = with_community(parse_resident_address(str(entity(tracker, "address") or "")), own)
        if address.complete and not address_given:
            events.append(SlotSet("address", address.canonical))
        return events


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
            and not answers(asked, tracker, now_local())
        ):
            # "供暖到几月？" while the address is asked: answered, then the same question again
            await self._answer(str(intent["name"]), dispatcher, tracker, domain)
            return [SlotSet(asked, None), SlotSet("requested_slot", asked)]
        return await super().run(dispatcher, tracker, domain)

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
            dispatcher.utter_message(text=knowledge.answer("leak_safety", get_facts(), now_local().date()))
        dispatcher.utter_message(text=f"好的，问题已改为：{PROBLEM_NAMES[new_category]}（{KIND_NAMES[new_kind]}）。")
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
        from actions import answers as answering  # it imports this module

        if intent == "query_work_order":
            await answering.ActionListWorkOrders().run(dispatcher, tracker, domain)
        elif intent == "ask_outage":
            await answering.ActionAnswerOutage().run(dispatcher, tracker, domain)
        elif intent == "ask_privacy":  # "我的电话会泄露吗" while the phone is asked: 12.1, and the filing goes on
            dispatcher.utter_message(text=knowledge.answer("privacy", get_facts(), now_local().date()))
        elif intent == "ask_business_process":  # the answer alone: the offer to file would cross this filing
            kind = entity(tracker, "business_type") or tracker.get_slot("business_type")
            dispatcher.utter_message(text=knowledge.business_answer(kind, get_facts(), now_local().date()))
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
        now = now_local()
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
        dispatcher.utter_message(text=knowledge.business_answer(str(value), get_facts(), now_local().date()))
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


def summary(tracker: Tracker) -> str:
    """What will be filed, in the words the resident will check."""
    kind = tracker.get_slot("order_kind") or "consultation"
    if tracker.get_slot("households"):
        return households_summary(tracker)
    parts = [f"{KIND_NAMES.get(kind, '咨询')}：{tracker.get_slot('description') or ''}"]
    if tracker.get_slot("business_type") in knowledge.BUSINESS_TYPES:
        parts.append(f"业务：{knowledge.business_name(tracker.get_slot('business_type'))}")
    if (
        tracker.get_slot("business_type") == BusinessType.APPLY_CONNECTION
        and tracker.get_slot("external_works") is not None
    ):
        parts.append("需要外线施工" if tracker.get_slot("external_works") else "无外线施工")
    parts.append(f"地址：{tracker.get_slot('address')}")
    parts.append(f"电话：{tracker.get_slot('phone')}")
    temperature = tracker.get_slot("measured_temperature")
    if isinstance(temperature, (int, float)):
        parts.append(f"室温：{temperature:g}℃")
    appointment = tracker.get_slot("appointment")
    if appointment and needs_appointment(kind, tracker.get_slot("category")):
        parts.append(f"上门时间：{visit_text(appointment)}")
    return "；".join(parts)


def visit_text(appointment: str) -> str:
    """The visit time as the resident reads it, in Beijing time whatever zone it was written in; "as soon
    as possible" with the window of 10.2.4."""
    if appointment == ASAP:
        return "尽快（接单后30分钟内到达，10.2.4）"
    return f"{datetime.fromisoformat(appointment).astimezone(LOCAL_TZ):%m月%d日 %H:%M}"


def household_order(tracker: Tracker, household: dict[str, Any]) -> tuple[str, str]:
    """The kind and category of one listed household's order: its own words decide between a complaint
    and a repair; a temperature test or business request stays what was asked for."""
    kind = tracker.get_slot("order_kind") or "consultation"
    category = tracker.get_slot("category") or "other"
    if kind in ("complaint", "repair") and household.get("category") in HOUSEHOLD_ORDERS:
        return HOUSEHOLD_ORDERS[household["category"]]
    return kind, category


def households_summary(tracker: Tracker) -> str:
    """One line per household, numbered as they will be filed."""
    listed = tracker.get_slot("households") or []
    lines = [f"共{len(listed)}户，每户单独登记一张工单："]
    for number, household in enumerate(listed, start=1):
        kind, category = household_order(tracker, household)
        name = ("紧急漏水" if category == "leak" else "") + KIND_NAMES.get(kind, "咨询")
        phone = household.get("phone") or "未提供"
        if household.get("phone_of_worker"):
            phone += "（您的电话，住户未留）"
        lines.append(f"{number}. {name}：{household['address']}，电话：{phone}；{household['note']}")
    appointment = tracker.get_slot("appointment")
    if appointment:
        lines.append(f"上门时间：{visit_text(appointment)}")
    return "\n".join(lines)


class ActionAskFilingConfirmed(Action):
    """The summary the resident confirms before anything is filed."""

    def name(self) -> str:
        return "action_ask_filing_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text=f"请确认：{summary(tracker)}\n确认提交吗？（回复“是”提交，“不是”修改，“取消”放弃）"
        )
        return []


def order_payload(tracker: Tracker) -> dict[str, Any]:
    """The backend's WorkOrderCreate from the filled form."""
    kind = tracker.get_slot("order_kind") or "consultation"
    description = tracker.get_slot("description") or ""
    business_type = tracker.get_slot("business_type")
    if kind == "business" and business_type in knowledge.BUSINESS_TYPES:
        description = f"【{knowledge.business_name(business_type)}】{description}"
    temperature = tracker.get_slot("measured_temperature")
    if isinstance(temperature, (int, float)):
        description += f"（住户自测室温 {temperature:g}℃）"
    grid_worker = bool(tracker.get_slot("is_grid_worker"))
    is_business = kind == "business" and business_type in knowledge.BUSINESS_TYPES
    payload: dict[str, Any] = {
        "kind": kind,
        "business_type": business_type if is_business else None,
        "external_works": True
        if is_business and business_type == BusinessType.APPLY_CONNECTION and tracker.get_slot("external_works")
        else None,
        "category": tracker.get_slot("category") or "other",
        "source": "grid_worker" if grid_worker else "wechat",
        "description": description[:4000] or KIND_NAMES.get(kind, "咨询"),
        "resident_openid": None if grid_worker else tracker.sender_id,
        "forwarded_by_openid": tracker.sender_id if grid_worker else None,
        "phone": tracker.get_slot("phone"),
        "address": tracker.get_slot("address"),
        "appointment_at": booked_visit(kind, tracker.get_slot("category"), tracker.get_slot("appointment")),
    }
    return {k: v for k, v in payload.items() if v is not None}


def household_payloads(tracker: Tracker) -> list[dict[str, Any]]:
    """One WorkOrderCreate per listed household, each forwarded by the grid worker (11.4)."""
    payloads = []
    for household in tracker.get_slot("households") or []:
        kind, category = household_order(tracker, household)
        payload = {
            "kind": kind,
            "category": category,
            "source": "grid_worker",
            "description": str(household.get("note") or KIND_NAMES.get(kind, "咨询"))[:4000],
            "forwarded_by_openid": tracker.sender_id,
            "phone": household.get("phone"),
            "address": household["address"],
            "appointment_at": booked_visit(kind, category, tracker.get_slot("appointment")),
        }
        payloads.append({k: v for k, v in payload.items() if v is not None})
    return payloads


def committed_window(order: WorkOrder) -> tuple[bool, str]:
    """Whether the order is a leak to be handled (10.2.3) rather than answered (10.1.4), and the window
    in plain words: "在1小时内", "在30分钟内", or "尽快" when the backend set no deadline."""
    if order.category == "leak" and order.handle_due_at:
        return True, f"在{duration_zh(order.handle_due_at - order.accepted_at)}内"
    due = order.response_due_at
    return False, f"在{duration_zh(due - order.accepted_at)}内" if due else "尽快"


def confirmation(dispatcher: CollectingDispatcher, order: WorkOrder) -> None:
    """The order number and the committed window, in plain words."""
    leak, window = committed_window(order)
    if leak:
        dispatcher.utter_message(response="utter_leak_order_filed", number=order.number, window=window)
        promised(dispatcher, order)
        return
    dispatcher.utter_message(response="utter_work_order_filed", number=order.number, window=window)
    arrival = unbooked_arrival(order)
    if arrival is not None:
        dispatcher.utter_message(response="utter_arrival_promised", window=arrival[0], due=arrival[1])
    promised(dispatcher, order)
    if needs_temperature(order.kind, order.category):  # a cold room, or none heated at all
        dispatcher.utter_message(response="utter_offer_temperature_test")


def unbooked_arrival(order: WorkOrder) -> tuple[str, str] | None:
    """For a visit filed without an appointment ("尽快"), the backend's arrival window and deadline in
    plain words ("30分钟内", "12月10日10:30", 10.2.4); else None."""
    if order.kind not in ("repair", "temperature_test") or order.category == "leak":
        return None
    if order.appointment_at is not None or order.arrival_due_at is None:
        return None
    return f"{duration_zh(order.arrival_due_at - order.accepted_at)}内", local_text(order.arrival_due_at)


def promised(dispatcher: CollectingDispatcher, order: WorkOrder) -> None:
    """When the order is to be finished, and by which clause: 10.1.4 (办结条) for the company's promise,
    9.1.4 for a new connection, 9.1.2 for other business."""
    if order.completion_due_at is None:
        return
    _, clause = deadline_label("completion", order.kind, order.business_type)
    dispatcher.utter_message(
        response="utter_completion_promised", due=local_text(order.completion_due_at), clause=clause
    )


class ActionFileWorkOrder(Action):
    """Files the confirmed form; if the backend is down, keeps it and re-submits automatically."""

    def name(self) -> str:
        return "action_file_work_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("filing_confirmed") is not True:
            return reset_filing()
        if tracker.get_slot("households"):
            # one key per household, so a retried turn files none of them twice
            payloads = household_payloads(tracker)
            key = idempotency_key(tracker, payloads)
            queue = [{"payload": p, "key": f"{key}-{i}"} for i, p in enumerate(payloads, start=1)]
            pending = {**queue[0], "attempt": 0, "rest": queue[1:]}
        else:
            payload = order_payload(tracker)
            pending = {"payload": payload, "key": idempotency_key(tracker, [payload]), "attempt": 0}
        return reset_filing() + await submit(dispatcher, tracker.sender_id, pending)


async def submit(dispatcher: CollectingDispatcher, sender_id: str, pending: dict[str, Any]) -> list[EventType]:
    """One submission of a kept order, or of a grid worker's list of them (``rest``); the idempotency
    keys make every retry safe.

    While the backend is down the orders not yet filed stay in the conversation (``pending_order``)
    and the conversation is recorded in the spool, whose loop in the action server retries it; both
    survive restarts.
    """
    spool = FilingSpool.from_env()
    client = BackendClient.from_env()
    queue = [pending, *pending.get("rest", [])]
    filed: list[tuple[dict[str, Any], WorkOrder]] = []
    for index, item in enumerate(queue):
        try:
            order = await client.create_work_order(item["payload"], item["key"])
        except BackendUnavailable:
            attempt = int(pending["attempt"])
            log.warning("filing deferred: backend unavailable (attempt %s)", attempt + 1)
            confirm_filed(dispatcher, filed)
            spool.keep(item["key"], sender_id)
            if attempt == 0 or filed:
                dispatcher.utter_message(response="utter_backend_unavailable")
            elif attempt == STILL_DOWN_AFTER:
                dispatcher.utter_message(response="utter_backend_still_down")
            waiting: dict[str, Any] = {"payload": item["payload"], "key": item["key"], "attempt": attempt + 1}
            if "rest" in pending:  # a list keeps the orders after this one, even when none are left
                waiting["rest"] = queue[index + 1 :]
            return [SlotSet("pending_order", waiting)]
        except BackendRejected:
            payload = item["payload"]  # phone and address stay out of the log
            log.exception("filing refused by the backend: %s/%s", payload.get("kind"), payload.get("category"))
            spool.done(item["key"])
            dispatcher.utter_message(response="utter_filing_refused")
            continue
        spool.done(item["key"])
        filed.append((item["payload"], order))
    confirm_filed(dispatcher, filed, batch="rest" in pending)
    return [SlotSet("pending_order", None)]


def confirm_filed(
    dispatcher: CollectingDispatcher, filed: list[tuple[dict[str, Any], WorkOrder]], batch: bool = True
) -> None:
    """The confirmation of one order, or one message listing a grid worker's orders."""
    if not filed:
        return
    if not batch:
        confirmation(dispatcher, filed[0][1])
        return
    lines = [f"已登记{len(filed)}户的工单："]
    for number, (payload, order) in enumerate(filed, start=1):
        leak, window = committed_window(order)
        if leak:
            promise = f"将{window}处置（10.2.3）"
        elif window == "尽快":
            promise = "工作人员将尽快联系"
        else:
            promise = f"工作人员将{window}联系（10.1.4）"
        arrival = unbooked_arrival(order)
        if arrival is not None:
            promise += f"，{arrival[0]}上门（10.2.4）"
        lines.append(f"{number}. {payload.get('address')}：单号 {order.number}，{promise}")
    dispatcher.utter_message(text="\n".join(lines))


class ActionRetryFiling(Action):
    """Runs on the bot's own reminder: re-submits a kept order with its original key."""

    def name(self) -> str:
        return "action_retry_filing"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        pending = tracker.get_slot("pending_order")
        if not isinstance(pending, dict) or "payload" not in pending:
            return []
        return await submit(dispatcher, tracker.sender_id, pending)


class ActionCancelFiling(Action):
    """The resident stops the filing at any point."""

    def name(self) -> str:
        return "action_cancel_filing"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_filing_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + reset_filing()
