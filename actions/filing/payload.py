"""What the form files, as pure functions of the tracker's slots: the summary the resident confirms, the
backend's WorkOrderCreate (one per household of a grid worker's list), and the filing's idempotency key."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker

from actions.filing.slots import ASAP, booked_visit, household_order, needs_appointment
from actions.tracker import form_opened_at
from bot import knowledge
from heating_standard.localtime import LOCAL_TZ
from heating_standard.orders import BusinessType, Category, is_urgent
from heating_standard.words import RESIDENT_CATEGORY_WORDS, kind_word, word


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


def summary(tracker: Tracker) -> str:
    """What will be filed, in the words the resident will check."""
    kind = tracker.get_slot("order_kind") or "consultation"
    if tracker.get_slot("households"):
        return households_summary(tracker)
    parts = [f"{kind_word(kind)}：{tracker.get_slot('description') or ''}"]
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


def households_summary(tracker: Tracker) -> str:
    """One line per household, numbered as they will be filed."""
    listed = tracker.get_slot("households") or []
    lines = [f"共{len(listed)}户，每户单独登记一张工单："]
    for number, household in enumerate(listed, start=1):
        kind, category = household_order(tracker, household)
        urgent = category in set(Category) and is_urgent(Category(category))  # 10.2.3: a leak
        name = ("紧急" + word(RESIDENT_CATEGORY_WORDS, category) if urgent else "") + kind_word(kind)
        phone = household.get("phone") or "未提供"
        if household.get("phone_of_worker"):
            phone += "（您的电话，住户未留）"
        lines.append(f"{number}. {name}：{household['address']}，电话：{phone}；{household['note']}")
    appointment = tracker.get_slot("appointment")
    if appointment:
        lines.append(f"上门时间：{visit_text(appointment)}")
    return "\n".join(lines)


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
        "description": description[:4000] or kind_word(kind),
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
            "description": str(household.get("note") or kind_word(kind))[:4000],
            "forwarded_by_openid": tracker.sender_id,
            "phone": household.get("phone"),
            "address": household["address"],
            "appointment_at": booked_visit(kind, category, tracker.get_slot("appointment")),
        }
        payloads.append({k: v for k, v in payload.items() if v is not None})
    return payloads
