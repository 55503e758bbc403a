"""What a filing is made of: the intents that start one and the order each files, the form's slots, and the
rules over them (which kinds book a visit, which ask the measured temperature, what a grid worker's
household files)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.tracker import value_before_turn

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


def choose_category(default: str, found: Any) -> str:
    """The intent's category, unless the wording points to a more precise one it allows."""
    return str(found) if found in REFINEMENTS.get(default, frozenset()) else default


def needs_appointment(kind: str | None, category: str | None) -> bool:
    """Visits are booked for repairs and temperature tests, not for a leak: it is handled within an hour of
    the call (10.2.3), with no appointment."""
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


def corrected_this_turn(tracker: Tracker) -> bool:
    """True when the latest message changed a detail already taken down (a mid-form correction)."""
    changed = tracker.slots_to_validate()
    return any(
        name in changed and changed[name] is not None and value_before_turn(tracker, name) is not None
        for name in CORRECTABLE
    )


def reset_filing() -> list[EventType]:
    return [SlotSet(name, None) for name in FILING_SLOTS]


def household_order(tracker: Tracker, household: dict[str, Any]) -> tuple[str, str]:
    """The kind and category of one listed household's order: its own words decide between a complaint
    and a repair; a temperature test or business request stays what was asked for."""
    kind = tracker.get_slot("order_kind") or "consultation"
    category = tracker.get_slot("category") or "other"
    if kind in ("complaint", "repair") and household.get("category") in HOUSEHOLD_ORDERS:
        return HOUSEHOLD_ORDERS[household["category"]]
    return kind, category
