"""Filing: what is asked for each kind, how answers are checked, and what reaches the backend."""

from __future__ import annotations

import ast
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.filing.actions import (
    ActionAskFilingConfirmed,
    ActionCancelFiling,
    ActionFileWorkOrder,
    ActionRetryFiling,
    ActionStartFiling,
)
from actions.filing.form import ValidateFilingForm
from actions.filing.payload import order_payload
from actions.filing.slots import needs_appointment
from actions.spool import FilingSpool
from actions.tracker import entity
from bot.parsing import LOCAL_TZ
from tests.actions.conftest import make_tracker, responses
from tests.actions.fake_backend import FakeBackend

FILLED = {
    "order_kind": "complaint",
    "category": "room_temperature",
    "description": "暖气不热",
    "address": "阳光小区3号楼2单元501",
    "phone": "13800138000",
    "measured_temperature": 15.0,
    "filing_confirmed": True,
    "is_grid_worker": False,
}


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def start(text: str, intent: str, **kwargs: Any) -> tuple[list[dict], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionStartFiling().run(dispatcher, make_tracker(text, intent, **kwargs), {})
    return dispatcher.messages, slots_of(events)


async def test_room_temperature_complaint_explains_the_standard_and_keeps_the_stated_temperature(
    backend: FakeBackend,
) -> None:
    messages, slots = await start("我家暖气不热，屋里才十五度", "complain_room_temperature")
    assert "5.1" in messages[0]["text"] and "18℃" in messages[0]["text"] and "5.4.6" in messages[0]["text"]
    assert (slots["order_kind"], slots["category"]) == ("complaint", "room_temperature")
    assert slots["description"] == "我家暖气不热，屋里才十五度"
    assert slots["measured_temperature"] == 15.0
    assert slots["is_grid_worker"] is False and slots["address"] is None


async def test_details_in_the_first_message_are_not_asked_again(
    backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("actions.clock.now", lambda: datetime(2026, 12, 10, 10, 0, tzinfo=LOCAL_TZ))
    backend.residents["oRESIDENT0001"] = {"phone": "13900001111", "addresses": [{"text": "华夏小区5号楼1单元301"}]}
    _, slots = await start(
        "阀门坏了 明天上午来修 阳光小区3号楼2单元501 电话13800138000",
        "request_repair",
        now=datetime(2026, 12, 10, 10, 0, tzinfo=LOCAL_TZ),
    )
    assert slots["address"] == "阳光小区3号楼2单元501"
    assert slots["phone"] == "13800138000"
    assert slots["appointment"] == "2026-12-11T07:00:00+08:00"
    assert slots.get("contact_known") is None  # the remembered address is not offered over the one given


async def test_leak_gets_safety_advice_first(backend: FakeBackend) -> None:
    messages, slots = await start("暖气漏水了", "report_leak")
    assert "关闭" in messages[0]["text"] and "阀门" in messages[0]["text"] and "10.2.3" in messages[0]["text"]
    assert (slots["order_kind"], slots["category"]) == ("repair", "leak")


async def test_known_resident_is_confirmed_not_asked_again(backend: FakeBackend) -> None:
    backend.residents["oRESIDENT0001"] = {
        "openid": "oRESIDENT0001",
        "phone": "13900001111",
        "addresses": [{"text": "华夏小区5号楼1单元301", "community": "华夏小区"}],
    }
    _, slots = await start("暖气坏了", "request_repair")
    assert slots["address"] == "华夏小区5号楼1单元301"
    assert slots["phone"] == "13900001111"
    assert slots["contact_known"] is True


async def test_grid_worker_files_for_a_resident(backend: FakeBackend) -> None:
    backend.grid_workers["oGRID"] = {"openid": "oGRID", "name": "王网格", "communities": ["阳光小区"]}
    messages, slots = await start("3号楼有户暖气不热", "complain_room_temperature", sender_id="oGRID")
    assert slots["is_grid_worker"] is True
    assert any(m.get("response") == "utter_filing_for_resident" for m in messages)  # "您是登记的网格员，…代为登记"


async def test_business_request_remembers_the_type_from_the_slot(backend: FakeBackend) -> None:
    _, slots = await start(
        "是的", "affirm", slots={"offered_filing": "ask_business_process", "business_type": "stop_heating"}
    )
    assert slots["order_kind"] == "business"
    assert slots["business_type"] == "stop_heating"


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        (
            {"order_kind": "complaint", "category": "room_temperature"},
            ["address", "phone", "measured_temperature", "filing_confirmed"],
        ),
        ({"order_kind": "complaint", "category": "service"}, ["address", "phone", "filing_confirmed"]),
        ({"order_kind": "repair", "category": "leak"}, ["address", "phone", "filing_confirmed"]),
        ({"order_kind": "repair", "category": "equipment"}, ["address", "phone", "appointment", "filing_confirmed"]),
        (
            {"order_kind": "temperature_test", "category": "room_temperature"},
            ["address", "phone", "appointment", "filing_confirmed"],
        ),
        ({"order_kind": "business", "category": "other"}, ["business_type", "address", "phone", "filing_confirmed"]),
        (
            {"order_kind": "business", "category": "other", "business_type": "apply_connection"},
            ["business_type", "external_works", "address", "phone", "filing_confirmed"],
        ),
        (
            {"order_kind": "repair", "category": "leak", "contact_known": True},
            ["contact_confirmed", "address", "phone", "filing_confirmed"],
        ),
    ],
)
async def test_the_form_asks_only_what_the_order_needs(slots: dict, expected: list[str]) -> None:
    tracker = make_tracker("x", "inform", slots={"description": "暖气不热", **slots})
    assert await ValidateFilingForm().required_slots([], CollectingDispatcher(), tracker, {}) == expected


def test_a_leak_books_no_visit_and_its_rule_cites_the_hour_of_10_2_3() -> None:
    assert not needs_appointment("repair", "leak")
    assert needs_appointment("repair", "equipment") and needs_appointment("temperature_test", "room_temperature")
    assert "10.2.3" in str(needs_appointment.__doc__) and "10.1.4" not in str(needs_appointment.__doc__)


def test_no_docstring_cites_the_reply_windows_of_10_1_4_for_a_leak_alone() -> None:
    """A leak is handled within an hour of the call (10.2.3); 10.1.4 is the complaint's response and reply."""
    root = Path(__file__).resolve().parents[2]
    wrong = []
    for folder in ("actions", "bot", "channels", "heating_standard", "api"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node) or ""
                    if ("leak" in doc or "漏" in doc) and "10.1.4" in doc and "10.2.3" not in doc:
                        wrong.append(f"{path.relative_to(root)}:{getattr(node, 'name', '')}")
    assert wrong == []


def validate(slot: str, value: Any, slots: dict | None = None) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    method = getattr(ValidateFilingForm(), f"validate_{slot}")
    result = method(value, dispatcher, make_tracker(str(value), "inform", slots=slots or {}), {})
    return result, responses(dispatcher.messages)


def test_address_needs_community_building_and_room() -> None:
    result, said = validate("address", "阳光小区")
    assert result["address"] is None and said == ["utter_invalid_address"]
    assert result["failed_attempts"] == 1
    ok, _ = validate("address", "阳光小区三号楼二单元五零一")
    assert ok == {"address": "阳光小区三号楼二单元五零一", "failed_attempts": 0.0}
    padded, _ = validate("address", "  我家住阳光小区3号楼2单元501 ")
    assert padded["address"] == "阳光小区3号楼2单元501"


def test_second_failed_try_offers_a_person() -> None:
    result, said = validate("phone", "12345", {"failed_attempts": 1.0})
    assert result["phone"] is None
    assert said == ["utter_invalid_phone", "utter_offer_human"]


@pytest.mark.parametrize(
    ("value", "phone"),
    [("138 0013 8000", "13800138000"), ("0631-0001234", "0631-0001234"), ("电话06310001234", "0631-0001234")],
)
def test_mobile_and_landline_numbers(value: str, phone: str) -> None:
    assert validate("phone", value)[0]["phone"] == phone


@pytest.mark.parametrize(
    ("value", "expected"),
    [("十五度", 15.0), ("16", 16.0), ("15.5℃", 15.5), ("不知道", "unknown"), ("99度", None), ("很冷", None)],
)
def test_measured_temperature(value: str, expected: Any) -> None:
    assert validate("measured_temperature", value)[0]["measured_temperature"] == expected


def test_appointment_must_be_ahead_and_within_seven_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("actions.clock.now", lambda: datetime(2026, 12, 10, 10, 0, tzinfo=LOCAL_TZ))
    ok, _ = validate("appointment", "明天上午")
    assert ok["appointment"] == "2026-12-11T07:00:00+08:00"
    assert validate("appointment", "上周五")[0]["appointment"] is None
    assert validate("appointment", "一个月后")[0]["appointment"] is None
    soon, _ = validate("appointment", "今天")  # already begun: in 30 minutes
    assert soon["appointment"] == "2026-12-10T10:30:00+08:00"


def test_declining_the_summary_asks_address_and_phone_again() -> None:
    result, said = validate("filing_confirmed", False)
    assert said == ["utter_filing_restart"]
    assert result["address"] is None and result["phone"] is None and result["filing_confirmed"] is None


def form_opened(at: float) -> list[dict[str, Any]]:
    """The events of a filing form opened at ``at`` and closed on confirmation, as Rasa stores them."""
    return [
        {"event": "active_loop", "name": "filing_form", "timestamp": at},
        {"event": "active_loop", "name": None, "timestamp": at + 60},
    ]


async def file(
    tracker_slots: dict,
    message_id: str = "wx-1",
    sender_id: str = "oRESIDENT0001",
    earlier_events: list[dict[str, Any]] | None = None,
) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "是", "affirm", slots=tracker_slots, message_id=message_id, sender_id=sender_id, earlier_events=earlier_events
    )
    events = await ActionFileWorkOrder().run(dispatcher, tracker, {})
    return dispatcher.messages, events


async def test_confirmed_complaint_is_filed_with_number_window_and_test_offer(backend: FakeBackend) -> None:
    messages, events = await file(FILLED)
    [order] = backend.orders
    assert (order["kind"], order["category"], order["source"]) == ("complaint", "room_temperature", "wechat")
    assert order["resident_openid"] == "oRESIDENT0001"
    assert order["address"] == "阳光小区3号楼2单元501" and order["phone"] == "13800138000"
    assert "15℃" in order["description"]
    assert responses(messages) == [
        "utter_work_order_filed",
        "utter_completion_promised",
        "utter_offer_temperature_test",
    ]
    assert messages[0]["number"] == "GD20261210000001" and messages[0]["window"] == "在30分钟内"
    assert (messages[1]["clause"], messages[1]["due"]) == ("10.1.4（办结条）", "12月13日10:00")  # Beijing time
    assert slots_of(events)["order_kind"] is None  # the form's slots are cleared for the next filing


async def test_leak_confirmation_promises_handling_within_an_hour(backend: FakeBackend) -> None:
    messages, _ = await file({**FILLED, "order_kind": "repair", "category": "leak", "measured_temperature": None})
    assert backend.orders[0]["urgent"] is True
    assert responses(messages) == ["utter_leak_order_filed"]
    assert messages[0]["window"] == "在1小时内"


async def test_grid_worker_order_names_the_grid_worker_not_the_resident(backend: FakeBackend) -> None:
    await file({**FILLED, "is_grid_worker": True}, sender_id="oGRID")
    order = backend.orders[0]
    assert order["source"] == "grid_worker" and order["forwarded_by_openid"] == "oGRID"
    assert "resident_openid" not in order


async def test_a_retried_turn_files_no_second_order(backend: FakeBackend) -> None:
    first, _ = await file(FILLED, message_id="wx-123")
    second, _ = await file(FILLED, message_id="wx-123")
    assert len(backend.orders) == 1
    assert first[0]["number"] == second[0]["number"]


async def test_a_confirmation_given_again_after_its_answer_was_lost_files_no_second_order(backend: FakeBackend) -> None:
    """#22: the order was filed, then the Rasa server stopped before the resident heard the number; the
    resident, hearing nothing, confirms once more (another message): the same order, its number said."""
    first, _ = await file(FILLED, message_id="msg:oRESIDENT0001:1", earlier_events=form_opened(1_796_000_000.5))
    again, _ = await file(FILLED, message_id="msg:oRESIDENT0001:2", earlier_events=form_opened(1_796_000_000.5))
    assert len(backend.orders) == 1
    assert first[0]["number"] == again[0]["number"] and responses(again)[0] == "utter_work_order_filed"


async def test_a_changed_filing_or_a_later_one_is_another_order(backend: FakeBackend) -> None:
    opened = form_opened(1_796_000_000.5)
    await file(FILLED, message_id="m1", earlier_events=opened)
    await file({**FILLED, "phone": "13900139000"}, message_id="m2", earlier_events=opened)  # details changed
    await file(FILLED, message_id="m3", earlier_events=form_opened(1_796_003_600.0))  # a new filing later on
    assert [o["phone"] for o in backend.orders] == ["13800138000", "13900139000", "13800138000"]


async def test_backend_failing_briefly_is_retried_within_the_turn(backend: FakeBackend) -> None:
    backend.fail_next = 2
    messages, _ = await file(FILLED)
    assert len(backend.orders) == 1 and responses(messages)[0] == "utter_work_order_filed"


async def test_backend_down_keeps_the_order_and_resubmits_it_later(backend: FakeBackend) -> None:
    backend.fail_next = 3  # every attempt of this turn fails
    messages, events = await file(FILLED)
    assert responses(messages) == ["utter_backend_unavailable"]
    pending = slots_of(events)["pending_order"]
    assert pending["payload"]["address"] == "阳光小区3号楼2单元501" and pending["attempt"] == 1
    assert backend.orders == []
    spool = FilingSpool.from_env()
    assert [(w.key, w.sender_id) for w in spool.due(now=time.time() + 3600)] == [(pending["key"], "oRESIDENT0001")]

    # the action server's loop triggers EXTERNAL_retry_filing in the conversation: the order is filed
    dispatcher = CollectingDispatcher()
    retry = make_tracker("", "EXTERNAL_retry_filing", slots={"pending_order": pending}, message_id="retry")
    events = await ActionRetryFiling().run(dispatcher, retry, {})
    assert len(backend.orders) == 1
    assert responses(dispatcher.messages)[0] == "utter_work_order_filed"
    assert slots_of(events)["pending_order"] is None
    assert spool.due(now=time.time() + 3600) == []
    keys = {r["headers"].get("Idempotency-Key") for r in backend.requests if r["method"] == "POST"}
    assert keys == {pending["key"]}  # every attempt carried the first turn's key


async def test_resident_is_told_once_when_the_backend_stays_down(unreachable_backend: None) -> None:
    pending = {"payload": {"kind": "complaint"}, "key": "k", "attempt": 0}
    said = []
    for _ in range(7):
        dispatcher = CollectingDispatcher()
        retry = make_tracker("", "EXTERNAL_retry_filing", slots={"pending_order": pending})
        pending = slots_of(await ActionRetryFiling().run(dispatcher, retry, {}))["pending_order"]
        said += responses(dispatcher.messages)
    assert said == ["utter_backend_unavailable", "utter_backend_still_down"]
    assert pending["attempt"] == 7


async def test_refused_order_is_not_retried(backend: FakeBackend) -> None:
    messages, _ = await file({**FILLED, "order_kind": "party"})
    assert responses(messages) == ["utter_filing_refused"]
    assert len([r for r in backend.requests if r["method"] == "POST"]) == 1


async def test_cancel_ends_the_form_and_clears_it() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionCancelFiling().run(dispatcher, make_tracker("取消", "cancel", slots=FILLED), {})
    assert responses(dispatcher.messages) == ["utter_filing_cancelled"]
    assert {"event": "active_loop", "timestamp": None, "name": None} in events
    assert slots_of(events)["address"] is None


def test_payload_of_a_business_request_names_the_business() -> None:
    tracker = make_tracker(
        "是",
        "affirm",
        slots={
            **FILLED,
            "order_kind": "business",
            "category": "other",
            "business_type": "stop_heating",
            "measured_temperature": None,
        },
    )
    payload = order_payload(tracker)
    assert payload["kind"] == "business" and payload["description"].startswith("【报停】")
    assert payload["business_type"] == "stop_heating" and "external_works" not in payload


@pytest.mark.parametrize(
    ("business_type", "named"),
    [("open_account", "【开户（建立供热户）】"), ("close_account", "【销户（注销供热户）】")],
)
def test_opening_or_closing_an_account_is_asked_for_and_filed_as_its_business_kind(
    business_type: str, named: str
) -> None:
    """开户 and 销户 (7.5): the form takes them as the business asked, and the backend gets them by their code."""
    result, said = validate("business_type", business_type)
    assert result == {"business_type": business_type} and said[0].startswith(named[:3])
    slots = {**FILLED, "order_kind": "business", "category": "other", "measured_temperature": None}
    payload = order_payload(make_tracker("是", "affirm", slots={**slots, "business_type": business_type}))
    assert payload["kind"] == "business" and payload["business_type"] == business_type
    assert payload["description"].startswith(named) and "external_works" not in payload


@pytest.mark.parametrize(("answer", "sent"), [(True, True), (False, None)])
def test_a_new_connection_says_whether_it_needs_external_works(answer: bool, sent: bool | None) -> None:
    """9.1.4: 1 day without works outside the building, 3 with; the backend sets the deadline."""
    slots = {**FILLED, "order_kind": "business", "category": "other", "measured_temperature": None}
    tracker = make_tracker(
        "是", "affirm", slots={**slots, "business_type": "apply_connection", "external_works": answer}
    )
    payload = order_payload(tracker)
    assert payload["business_type"] == "apply_connection" and payload.get("external_works") is sent


FORM_DOMAIN = {
    "forms": {"filing_form": {"required_slots": ["address", "phone", "measured_temperature", "filing_confirmed"]}}
}


async def run_form(
    text: str,
    intent: str,
    before: dict[str, Any],
    extracted: dict[str, Any],
    domain: dict = FORM_DOMAIN,
    ranking: list[tuple[str, float]] | None = None,
) -> tuple[dict, list[str]]:
    """One turn of the filing form: ``before`` was taken down, the message's mappings set ``extracted``."""
    earlier = [{"event": "slot", "name": k, "value": v} for k, v in before.items()]
    tracker = make_tracker(text, intent, slots={**before, **extracted}, earlier_events=earlier)
    if ranking:
        tracker.latest_message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    tracker.events.extend({"event": "slot", "name": k, "value": v} for k, v in extracted.items())
    tracker.active_loop = {"name": "filing_form"}
    dispatcher = CollectingDispatcher()
    events = await ValidateFilingForm().run(dispatcher, tracker, domain)
    return slots_of(events), responses(dispatcher.messages)


TAKEN_DOWN = {**FILLED, "filing_confirmed": None, "requested_slot": "filing_confirmed"}


async def test_a_correction_at_the_summary_changes_one_part_and_asks_again() -> None:
    # "不是…" is classified as deny and the address entity is the half-sentence "不是3号楼"
    slots, said = await run_form(
        "不是3号楼是5号楼", "deny", TAKEN_DOWN, {"address": "不是3号楼", "filing_confirmed": False}
    )
    assert slots["address"] == "阳光小区5号楼2单元501"
    assert slots["filing_confirmed"] is None
    assert "phone" not in slots or slots["phone"] == FILLED["phone"]
    assert "utter_filing_restart" not in said and any("5号楼" in s for s in said)


async def test_a_plain_no_at_the_summary_starts_over() -> None:
    slots, said = await run_form("不对", "deny", TAKEN_DOWN, {"filing_confirmed": False})
    assert slots["address"] is None and slots["phone"] is None
    assert "utter_filing_restart" in said


async def test_a_new_phone_number_at_the_summary_replaces_the_old_one() -> None:
    slots, said = await run_form(
        "电话错了，是13912345678", "deny", TAKEN_DOWN, {"phone": "13912345678", "filing_confirmed": False}
    )
    assert slots["phone"] == "13912345678" and slots["filing_confirmed"] is None
    assert "utter_filing_restart" not in said


KNOWN = {**TAKEN_DOWN, "contact_known": True, "contact_confirmed": None, "requested_slot": "contact_confirmed"}
CONTACT_DOMAIN = {"forms": {"filing_form": {"required_slots": ["contact_confirmed", "address", "phone"]}}}


async def test_a_known_resident_correcting_the_remembered_address() -> None:
    extracted = {"address": "是6号楼", "contact_confirmed": False}
    slots, _ = await run_form("不对，是6号楼", "deny", KNOWN, extracted, CONTACT_DOMAIN)
    assert slots["contact_confirmed"] is True and slots["address"] == "阳光小区6号楼2单元501"


async def test_a_known_resident_saying_no_gives_the_details_again() -> None:
    slots, _ = await run_form("不是", "deny", KNOWN, {"contact_confirmed": False}, CONTACT_DOMAIN)
    assert slots["contact_known"] is False and slots["address"] is None and slots["phone"] is None


async def test_a_repair_that_mentions_running_water_is_filed_as_a_leak(backend: FakeBackend) -> None:
    messages, slots = await start("暖气片接头一直在滴水", "request_repair")
    assert (slots["order_kind"], slots["category"]) == ("repair", "leak")
    assert "阀" in messages[0]["text"]  # the safety advice comes first


async def test_a_room_that_is_not_heated_at_all_is_no_heat(backend: FakeBackend) -> None:
    _, slots = await start("暖气一点都不热，冰凉的", "complain_room_temperature")
    assert slots["category"] == "no_heat"
    tracker = make_tracker("x", "inform", slots={"order_kind": "complaint", "category": "no_heat", "description": "冷"})
    assert "measured_temperature" in await ValidateFilingForm().required_slots([], CollectingDispatcher(), tracker, {})


async def test_a_service_complaint_keeps_its_category_whatever_else_is_said(backend: FakeBackend) -> None:
    _, slots = await start("打电话没人接，家里还冷", "complain_service")
    assert slots["category"] == "service"


def test_a_complaint_sends_no_appointment_even_if_a_time_was_mentioned() -> None:
    payload = order_payload(make_tracker("x", "affirm", slots={**FILLED, "appointment": "2026-12-11T09:00:00+08:00"}))
    assert "appointment_at" not in payload


async def test_a_filing_from_the_menu_asks_what_the_problem_is(backend: FakeBackend) -> None:
    _, slots = await start("/request_repair", "request_repair")
    assert slots["description"] is None
    tracker = make_tracker("x", "inform", slots={"order_kind": "repair", "category": "equipment"})
    assert (await ValidateFilingForm().required_slots([], CollectingDispatcher(), tracker, {}))[0] == "description"
    result, said = validate("description", "/")
    assert result["description"] is None and said == ["utter_ask_description"]
    ok, _ = validate("description", "卧室暖气片不热")
    assert ok["description"] == "卧室暖气片不热"


@pytest.mark.parametrize(("category", "offered"), [("no_heat", True), ("service", False), ("billing", False)])
async def test_a_temperature_test_is_offered_for_cold_rooms_only(
    backend: FakeBackend, category: str, offered: bool
) -> None:
    messages, _ = await file({**FILLED, "category": category})
    assert ("utter_offer_temperature_test" in responses(messages)) is offered


ASKING_ADDRESS = {
    "order_kind": "repair",
    "category": "equipment",
    "description": "暖气漏水",
    "requested_slot": "address",
}


@pytest.mark.parametrize("text", ["算了，不报了", "先不弄了", "不用了", "取消吧", "不修了，谢谢"])
@pytest.mark.parametrize("intent", ["inform", "deny", "cancel"])
async def test_cancel_at_a_question_stops_the_filing_whatever_the_nlu_made_of_it(text: str, intent: str) -> None:
    """#12: "算了，不报了" while the bot asks for the address was taken as a bad address."""
    slots, said = await run_form(text, intent, ASKING_ADDRESS, {"address": text})
    assert said == ["utter_filing_cancelled"]
    assert slots["requested_slot"] is None and slots["order_kind"] is None and slots["address"] is None


async def test_a_plain_no_to_a_yes_no_question_is_that_questions_answer() -> None:
    asking = {**ASKING_ADDRESS, "contact_known": True, "requested_slot": "contact_confirmed"}
    slots, said = await run_form("不用了", "deny", asking, {"contact_confirmed": False})
    assert "utter_filing_cancelled" not in said and slots["requested_slot"] == "address"  # asked afresh
    _, said = await run_form("算了，不报了", "deny", asking, {"contact_confirmed": False})
    assert said == ["utter_filing_cancelled"]


async def test_a_question_about_a_cancel_is_not_a_cancel() -> None:
    slots, said = await run_form("取消报停的手续怎么办", "ask_business_process", ASKING_ADDRESS, {"address": None})
    assert "utter_filing_cancelled" not in said


async def test_an_address_corrected_while_the_phone_is_asked_is_corrected_not_called_a_bad_phone() -> None:
    """#12: "不对，是5号楼，不是3号楼" kept 3号楼 and then called the message a wrong phone number."""
    before = {**ASKING_ADDRESS, "address": "阳光小区3号楼2单元501", "requested_slot": "phone"}
    text = "不对，是5号楼，不是3号楼"
    slots, said = await run_form(text, "inform", before, {"phone": text})
    assert slots["address"] == "阳光小区5号楼2单元501" and slots["phone"] is None
    assert "utter_invalid_phone" not in said


async def test_a_question_inside_the_filing_is_answered_and_the_same_question_asked_again() -> None:
    """#12: a policy question while the address is asked; the form resumes where it was."""
    slots, said = await run_form(
        "供暖到几月份结束", "ask_heating_period", ASKING_ADDRESS, {"address": "供暖到几月份结束"}
    )
    assert slots["address"] is None and slots["requested_slot"] == "address"
    assert len(said) == 1 and "5.2.1" in said[0]  # the answer, with its clause; not "a bad address"


@pytest.mark.parametrize(
    ("text", "intent", "clause"),
    [
        ("修好要多久才来人啊", "ask_repair_process", "10.2.4"),
        ("投诉一般几天能处理完", "ask_complaint_process", "10.1.4"),
        ("屋里不够温度能少交点钱吗", "ask_fee_reduction", "10.3 第1条"),
        # erasure needs a person: inside a filing the resident is told what 12.1 promises, and the form goes on
        ("把我的电话删掉", "ask_privacy", "12.1"),
    ],
)
async def test_the_standards_promises_are_answered_inside_a_filing_too(text: str, intent: str, clause: str) -> None:
    slots, said = await run_form(text, intent, ASKING_ADDRESS, {"address": text})
    assert slots["requested_slot"] == "address" and slots["address"] is None
    assert len(said) == 1 and clause in said[0] and "utter_handoff" not in said


async def test_a_question_the_nlu_was_unsure_of_is_still_answered_inside_a_filing() -> None:
    """The fallback asks outside a form below 0.5; inside one a question at 0.45 is answered as before."""
    text = "供暖到几月份结束"
    before = {**ASKING_ADDRESS}
    slots, said = await run_form(
        text,
        "nlu_fallback",
        before,
        {"address": text},
        ranking=[("nlu_fallback", 0.5), ("ask_heating_period", 0.45), ("inform", 0.2)],
    )
    assert slots["requested_slot"] == "address" and len(said) == 1 and "5.2.1" in said[0]


async def test_an_address_the_nlu_took_for_a_question_is_the_answer() -> None:
    text = "阳光小区3号楼2单元501"
    slots, _ = await run_form(text, "ask_outage", ASKING_ADDRESS, {"address": text})
    assert slots["address"] == text


# ---------------------------------------------------------------- a grid worker's list of households (11.4)
LIST = (
    "帮居民报修：\n"
    "1. 海滨花园6号楼1单元602 王大爷 暖气不热 13700000006\n"
    "2. 海滨花园7号楼2单元301 李阿姨 暖气片漏水 13700000007"
)


def grid_worker(backend: FakeBackend, *communities: str) -> None:
    backend.grid_workers["oGRID"] = {"openid": "oGRID", "name": "王网格", "communities": list(communities)}


async def test_a_list_of_households_is_confirmed_once_with_one_line_each(backend: FakeBackend) -> None:
    grid_worker(backend, "海滨花园", "和平小区")
    _, slots = await start(LIST, "complain_room_temperature", sender_id="oGRID")
    listed = slots["households"]
    assert [h["address"] for h in listed] == ["海滨花园6号楼1单元602", "海滨花园7号楼2单元301"]
    assert slots["address"] is None and slots["phone"] is None
    tracker = make_tracker("", "inform", sender_id="oGRID", slots={**slots, "is_grid_worker": True})
    # nothing else is asked: each household's details came in the message
    assert await ValidateFilingForm().required_slots([], CollectingDispatcher(), tracker, {}) == ["filing_confirmed"]
    dispatcher = CollectingDispatcher()
    await ActionAskFilingConfirmed().run(dispatcher, tracker, {})
    text = dispatcher.messages[0]["text"]
    assert "共2户" in text
    assert "1. 投诉：海滨花园6号楼1单元602，电话：13700000006" in text
    assert "2. 紧急漏水报修：海滨花园7号楼2单元301，电话：13700000007" in text


async def test_one_confirmation_files_one_order_per_household(backend: FakeBackend) -> None:
    grid_worker(backend, "海滨花园")
    _, slots = await start(LIST, "complain_room_temperature", sender_id="oGRID")
    messages, events = await file({**slots, "filing_confirmed": True}, sender_id="oGRID")
    assert [(o["kind"], o["category"], o["address"], o["phone"]) for o in backend.orders] == [
        ("complaint", "room_temperature", "海滨花园6号楼1单元602", "13700000006"),
        ("repair", "leak", "海滨花园7号楼2单元301", "13700000007"),
    ]
    assert {(o["source"], o["forwarded_by_openid"]) for o in backend.orders} == {("grid_worker", "oGRID")}
    assert all("resident_openid" not in o for o in backend.orders)
    assert "王大爷" in backend.orders[0]["description"] and "李阿姨" in backend.orders[1]["description"]
    text = messages[0]["text"]
    assert "已登记2户" in text and "GD20261210000001" in text and "GD20261210000002" in text
    assert "1小时内处置（10.2.3）" in text  # the leak's window, the other's 30 minutes
    assert slots_of(events)["pending_order"] is None and slots_of(events)["households"] is None
    # the same confirming message again (a platform retry) files nothing twice
    await file({**slots, "filing_confirmed": True}, sender_id="oGRID")
    assert len(backend.orders) == 2


async def test_the_backend_failing_mid_list_keeps_the_rest_and_files_it_once(backend: FakeBackend) -> None:
    grid_worker(backend, "海滨花园")
    backend.accept_at_most = 1
    _, slots = await start(LIST, "complain_room_temperature", sender_id="oGRID")
    messages, events = await file({**slots, "filing_confirmed": True}, sender_id="oGRID")
    assert len(backend.orders) == 1
    assert "已登记1户" in messages[0]["text"] and responses(messages)[-1] == "utter_backend_unavailable"
    pending = slots_of(events)["pending_order"]
    assert pending["payload"]["address"] == "海滨花园7号楼2单元301" and pending["rest"] == []

    backend.accept_at_most = None
    dispatcher = CollectingDispatcher()
    retry = make_tracker("", "EXTERNAL_retry_filing", slots={"pending_order": pending}, sender_id="oGRID")
    events = await ActionRetryFiling().run(dispatcher, retry, {})
    assert [o["address"] for o in backend.orders] == ["海滨花园6号楼1单元602", "海滨花园7号楼2单元301"]
    assert "GD20261210000002" in dispatcher.messages[0]["text"]
    assert slots_of(events)["pending_order"] is None
    assert FilingSpool.from_env().due(now=time.time() + 3600) == []


async def test_declining_a_list_files_none_and_asks_for_it_again(backend: FakeBackend) -> None:
    grid_worker(backend, "海滨花园")
    _, slots = await start(LIST, "complain_room_temperature", sender_id="oGRID")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("不对", "deny", sender_id="oGRID", slots={**slots, "requested_slot": "filing_confirmed"})
    events = await ValidateFilingForm().run(dispatcher, tracker, {})
    assert responses(dispatcher.messages) == ["utter_households_not_filed"]
    assert slots_of(events)["households"] is None and slots_of(events)["requested_slot"] is None
    assert backend.orders == []


async def test_a_list_longer_than_the_limit_files_nothing_and_asks_for_it_in_parts(backend: FakeBackend) -> None:
    """The largest list one message can carry (about 90 households in 1,000 characters) would be filed
    with one "是": more than MAX_HOUSEHOLDS are refused, and no form starts."""
    from actions.filing.slots import MAX_HOUSEHOLDS

    grid_worker(backend, "阳光小区")
    text = "、".join(f"{n}号楼101" for n in range(1, MAX_HOUSEHOLDS + 2)) + "都不热"
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, "complain_room_temperature", sender_id="oGRID")
    events = await ActionStartFiling().run(dispatcher, tracker, {})
    assert f"列了{MAX_HOUSEHOLDS + 1}户" in dispatcher.messages[-1]["text"]
    assert slots_of(events)["households"] is None and slots_of(events)["order_kind"] is None
    assert events[-1] == {"event": "followup", "name": "action_listen", "timestamp": None}
    # exactly the limit is a list
    _, slots = await start(
        text.replace(f"、{MAX_HOUSEHOLDS + 1}号楼101", ""), "complain_room_temperature", sender_id="oGRID"
    )
    assert len(slots["households"]) == MAX_HOUSEHOLDS


async def test_a_household_without_a_phone_is_reached_through_the_grid_worker(backend: FakeBackend) -> None:
    backend.grid_workers["oGRID"] = {
        "openid": "oGRID",
        "name": "王网格",
        "phone": "13900009999",
        "communities": ["海滨花园"],
    }
    text = "帮居民报一下：海滨花园6号楼602 王大爷 13700000006；海滨花园7号楼301 李阿姨 不会用手机"
    _, slots = await start(text, "complain_room_temperature", sender_id="oGRID")
    assert [h["phone"] for h in slots["households"]] == ["13700000006", "13900009999"]
    tracker = make_tracker("", "inform", sender_id="oGRID", slots=slots)
    dispatcher = CollectingDispatcher()
    await ActionAskFilingConfirmed().run(dispatcher, tracker, {})
    assert "电话：13900009999（您的电话，住户未留）" in dispatcher.messages[0]["text"]
    await file({**slots, "filing_confirmed": True}, sender_id="oGRID")
    assert backend.orders[1]["phone"] == "13900009999" and "联系电话为转办网格员的" in backend.orders[1]["description"]
    assert "联系电话为转办网格员的" not in backend.orders[0]["description"]


async def test_a_grid_workers_address_without_community_takes_their_one_community(backend: FakeBackend) -> None:
    grid_worker(backend, "海滨花园")
    _, slots = await start(
        "我是网格员，帮6号楼1单元602的王大爷报一下，他家暖气不热", "complain_room_temperature", sender_id="oGRID"
    )
    assert slots["address"] == "海滨花园6号楼1单元602" and slots["grid_community"] == "海滨花园"
    assert slots.get("households") is None
    # answered later, too
    result, _ = validate("address", "8号楼301", {"grid_community": "海滨花园"})
    assert result["address"] == "海滨花园8号楼301"


async def test_a_grid_worker_of_several_communities_is_asked_which(backend: FakeBackend) -> None:
    grid_worker(backend, "海滨花园", "和平小区")
    _, slots = await start(
        "帮6号楼1单元602的王大爷报一下，他家暖气不热", "complain_room_temperature", sender_id="oGRID"
    )
    assert slots["address"] is None and slots["grid_community"] is None
    result, said = validate("address", "8号楼301")
    assert result["address"] is None and said == ["utter_invalid_address"]


# ---------------------------------------------------------------- correcting the problem or the time
LEAK_ASKING_PHONE = {
    "order_kind": "repair",
    "category": "leak",
    "description": "暖气漏水了",
    "address": "阳光小区3号楼2单元501",
    "phone": None,
    "is_grid_worker": False,
    "requested_slot": "phone",
}


async def test_the_problem_corrected_mid_form_changes_the_order_and_what_is_asked() -> None:
    """#12: "不是漏水，是不热" while the phone is asked: a cold-room complaint, which asks the phone and
    then the temperature measured, not a leak repair."""
    text = "不是漏水，是不热"
    slots, said = await run_form(text, "inform", LEAK_ASKING_PHONE, {"phone": text})
    assert (slots["order_kind"], slots["category"]) == ("complaint", "room_temperature")
    assert slots["description"] == "暖气漏水了（更正：不是漏水，是不热）"
    assert slots["requested_slot"] == "phone" and slots["phone"] is None
    assert said == ["好的，问题已改为：室温不够（投诉）。"]  # not "the phone number looks wrong"


async def test_the_problem_corrected_at_the_summary_shows_the_new_summary() -> None:
    before = {**TAKEN_DOWN, "order_kind": "complaint", "category": "room_temperature"}
    text = "不对，不是不热，是暖气片漏水"
    slots, said = await run_form(text, "deny", before, {"filing_confirmed": False})
    assert (slots["order_kind"], slots["category"]) == ("repair", "leak")
    assert slots["requested_slot"] == "filing_confirmed" and slots["filing_confirmed"] is None
    assert "10.2.3" in said[0] and said[1] == "好的，问题已改为：漏水（报修）。"  # safety advice first
    tracker = make_tracker("", "inform", slots={**before, **slots})
    dispatcher = CollectingDispatcher()
    await ActionAskFilingConfirmed().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"].startswith("请确认：报修：暖气不热（更正：不对，不是不热，是暖气片漏水）")


async def test_a_time_corrected_at_the_summary_is_the_one_shown_and_filed(
    backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime(2026, 12, 10, 10, 0, tzinfo=LOCAL_TZ)
    monkeypatch.setattr("actions.clock.now", lambda: now)
    before = {
        **TAKEN_DOWN,
        "order_kind": "repair",
        "category": "equipment",
        "measured_temperature": None,
        "appointment": "2026-12-11T07:00:00+08:00",
    }
    slots, said = await run_form(
        "改成明天下午", "inform", before, {"appointment": "2026-12-11T13:00:00+08:00/2026-12-11T18:00:00+08:00"}
    )
    assert slots["appointment"] == "2026-12-11T13:00:00+08:00"
    assert slots["requested_slot"] == "filing_confirmed" and said == []
    tracker = make_tracker("", "inform", slots={**before, **slots})
    dispatcher = CollectingDispatcher()
    await ActionAskFilingConfirmed().run(dispatcher, tracker, {})
    assert "上门时间：12月11日 13:00" in dispatcher.messages[0]["text"]
    await file({**before, **slots, "filing_confirmed": True})
    assert backend.orders[0]["appointment_at"] == "2026-12-11T13:00:00+08:00"


@pytest.mark.parametrize(
    ("text", "category"),
    [("不是漏水，是不热", "room_temperature"), ("没有漏水，就是冷", "room_temperature"), ("暖气片漏水", "leak")],
)
def test_a_denied_problem_word_is_not_the_problem(text: str, category: str) -> None:
    from bot.parsing import find_category

    found = find_category(text)
    assert found is not None and found[0] == category


# ---------------------------------------------------------------- a whole filing on a server in UTC
@pytest.mark.parametrize(
    ("beijing_now", "said", "visit", "shown"),
    [
        # 23:50 Beijing is 15:50 UTC the same day
        (datetime(2026, 12, 11, 23, 50, tzinfo=LOCAL_TZ), "明天上午9点", "2026-12-12T09:00:00+08:00", "12月12日 09:00"),
        # 00:10 Beijing is 16:10 UTC of the day before: "明天" and "今天" are still Beijing's
        (datetime(2026, 12, 12, 0, 10, tzinfo=LOCAL_TZ), "明天上午9点", "2026-12-13T09:00:00+08:00", "12月13日 09:00"),
        (datetime(2026, 12, 12, 0, 10, tzinfo=LOCAL_TZ), "今天下午三点", "2026-12-12T15:00:00+08:00", "12月12日 15:00"),
    ],
)
async def test_a_whole_filing_on_a_utc_server_keeps_beijing_days(
    server_in_utc: None,
    backend: FakeBackend,
    monkeypatch: pytest.MonkeyPatch,
    beijing_now: datetime,
    said: str,
    visit: str,
    shown: str,
) -> None:
    """#12: start, address, phone, visit time, summary, filing and confirmation, either side of Beijing
    midnight, with the server's clock in UTC."""
    monkeypatch.setattr("actions.clock.now", lambda: beijing_now)
    _, slots = await start("暖气阀门坏了，想约师傅上门", "request_repair", now=beijing_now)
    form = ValidateFilingForm()
    dispatcher = CollectingDispatcher()
    for slot, text in (("address", "阳光小区3号楼2单元501"), ("phone", "13800138000"), ("appointment", said)):
        tracker = make_tracker(text, "inform", slots={**slots, "requested_slot": slot}, now=beijing_now)
        # what Rasa's slot mappings give: the time entity for the visit, the text for the others
        value = entity(tracker, "time") if slot == "appointment" else text
        slots.update(getattr(form, f"validate_{slot}")(value, dispatcher, tracker, {}))
    assert slots["appointment"] == visit
    tracker = make_tracker("", "inform", slots=slots)
    await ActionAskFilingConfirmed().run(dispatcher, tracker, {})
    assert f"上门时间：{shown}" in dispatcher.messages[-1]["text"]
    messages, _ = await file({**slots, "filing_confirmed": True})
    assert backend.orders[0]["appointment_at"] == visit
    assert responses(messages)[0] == "utter_work_order_filed"


async def test_a_residents_list_of_addresses_is_not_a_grid_workers_list(backend: FakeBackend) -> None:
    """Only a registered grid worker (the backend says so) files for several households; a resident who
    names two addresses files one order of their own, with the first address."""
    _, slots = await start(LIST, "complain_room_temperature", sender_id="oRESIDENT0001")
    assert slots["is_grid_worker"] is False and slots.get("households") is None
    assert slots["address"] == "海滨花园6号楼1单元602"


# ---------------------------------------------------------------- "尽快": no appointment, 30 minutes (10.2.4)
ASKING_TIME = {
    "order_kind": "repair",
    "category": "equipment",
    "description": "暖气阀门坏了",
    "address": "阳光小区3号楼2单元501",
    "phone": "13800138000",
    "is_grid_worker": False,
    "requested_slot": "appointment",
}


@pytest.mark.parametrize("text", ["现在", "马上", "尽快", "越快越好", "随时都行", "现在就来", "尽快吧，谢谢"])
@pytest.mark.parametrize("kind", ["repair", "temperature_test"])
async def test_as_soon_as_possible_books_no_time_and_is_taken(
    monkeypatch: pytest.MonkeyPatch, text: str, kind: str
) -> None:
    """#23: "尽快" when the visit time is asked was refused as a bad time; 10.2.4 lets the repairer come
    within 30 minutes of acceptance instead of at an appointed time."""
    monkeypatch.setattr("actions.clock.now", lambda: datetime(2026, 12, 10, 10, 0, tzinfo=LOCAL_TZ))
    before = {**ASKING_TIME, "order_kind": kind}
    slots, said = await run_form(text, "inform", before, {"appointment": text})
    assert slots["appointment"] == "asap" and said == []
    tracker = make_tracker("", "inform", slots={**before, **slots, "filing_confirmed": True})
    assert "appointment_at" not in order_payload(tracker)
    dispatcher = CollectingDispatcher()
    await ActionAskFilingConfirmed().run(dispatcher, tracker, {})
    assert "上门时间：尽快（接单后30分钟内到达，10.2.4）" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize("text", ["现在不在家", "随便", "马上过年了"])
async def test_words_that_only_contain_now_are_not_as_soon_as_possible(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setattr("actions.clock.now", lambda: datetime(2026, 12, 10, 10, 0, tzinfo=LOCAL_TZ))
    slots, said = await run_form(text, "inform", ASKING_TIME, {"appointment": text})
    assert slots["appointment"] is None and said == ["utter_invalid_appointment"]


@pytest.mark.parametrize("text", ["暖气阀门坏了 尽快来修", "暖气片放不了气，麻烦马上派人过来", "阀门关不上了越快越好"])
async def test_as_soon_as_possible_in_the_first_message_is_taken_and_not_asked(backend: FakeBackend, text: str) -> None:
    _, slots = await start(text, "request_repair")
    assert slots["appointment"] == "asap"


@pytest.mark.parametrize("text", ["现在暖气阀门坏了", "阀门坏了，明天上午来吧", "马上过年了 阀门又坏了"])
async def test_now_alone_or_a_time_in_the_first_message_is_not_as_soon_as_possible(
    backend: FakeBackend, text: str
) -> None:
    _, slots = await start(text, "request_repair")
    assert slots.get("appointment") != "asap"


async def test_a_repair_filed_as_soon_as_possible_promises_arrival_within_30_minutes(backend: FakeBackend) -> None:
    slots = {**ASKING_TIME, "appointment": "asap", "filing_confirmed": True}
    messages, _ = await file(slots)
    assert backend.orders[0]["kind"] == "repair" and "appointment_at" not in backend.orders[0]
    arrival = next(m for m in messages if m.get("response") == "utter_arrival_promised")
    # the backend's arrival_due_at (accepted 10:00 Beijing + 30 minutes), said in Beijing time
    assert (arrival["window"], arrival["due"]) == ("30分钟内", "12月10日10:30")


async def test_a_repair_with_an_appointment_promises_no_30_minute_arrival(backend: FakeBackend) -> None:
    messages, _ = await file({**ASKING_TIME, "appointment": "2026-12-11T09:00:00+08:00", "filing_confirmed": True})
    assert backend.orders[0]["appointment_at"] == "2026-12-11T09:00:00+08:00"
    assert "utter_arrival_promised" not in responses(messages)


# ---------------------------------------------------------------- a cancel with its reason
@pytest.mark.parametrize(
    "text",
    [
        "不用了，暖气已经好了",
        "不修了，自己弄好了",
        "算了，邻居帮我修好了",
        "不用来了，刚才又热了",
        "刚才又热了，不用来了",
    ],
)
@pytest.mark.parametrize(
    ("asked", "intent"),
    [("phone", "inform"), ("phone", "deny"), ("appointment", "inform"), ("contact_confirmed", "deny")],
)
async def test_a_cancel_with_its_reason_stops_the_filing_at_any_question(
    backend: FakeBackend, text: str, asked: str, intent: str
) -> None:
    """#23: "不用了，暖气已经好了" while the phone was asked got "这个号码好像不对" and the filing went on."""
    before = {**ASKING_TIME, "phone": None, "contact_known": asked == "contact_confirmed", "requested_slot": asked}
    slots, said = await run_form(text, intent, before, {asked: text if asked != "contact_confirmed" else False})
    assert said == ["utter_filing_cancelled"]
    assert slots["requested_slot"] is None and slots["order_kind"] is None and slots["address"] is None
    messages, _ = await file({**before, **slots})  # nothing reaches the backend
    assert backend.orders == [] and messages == []


@pytest.mark.parametrize("text", ["不用了，暖气还是不热", "算了，好了吗？", "取消报停怎么办理"])
async def test_a_cancel_word_beside_a_complaint_or_a_question_is_not_a_cancel(text: str) -> None:
    _, said = await run_form(text, "inform", {**ASKING_TIME, "requested_slot": "phone"}, {"phone": text})
    assert "utter_filing_cancelled" not in said


async def test_a_grid_workers_named_households_become_two_whole_orders(backend: FakeBackend) -> None:
    """#23: the second order had the address "的李大爷家和9号楼2单元202" and no community."""
    grid_worker(backend, "海滨花园", "和平小区")
    text = (
        "海滨花园8号楼1单元101的李大爷家和9号楼2单元202的赵阿姨家都不热，李大爷电话13912345678，赵阿姨电话13887654321"
    )
    _, slots = await start(text, "complain_room_temperature", sender_id="oGRID")
    await file({**slots, "filing_confirmed": True}, sender_id="oGRID")
    filed = [(o["address"], o["phone"], o["kind"]) for o in backend.orders]
    assert filed == [
        ("海滨花园8号楼1单元101", "13912345678", "complaint"),
        ("海滨花园9号楼2单元202", "13887654321", "complaint"),
    ]
