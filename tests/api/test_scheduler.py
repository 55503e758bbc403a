"""Reminders at 80 % of a window and breaches at 100 %: each exactly once, delivered or retried."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import run_scheduler_once
from api.models import Notification
from tests.api.conftest import FakeOutbound, FixedClock

ORDERS = "/api/v1/work-orders"
COMPLAINT = {
    "kind": "complaint",
    "category": "room_temperature",
    "source": "wechat",
    "description": "屋里冷",
    "resident_openid": "oSCHED",
}


def notifications(client: TestClient, auth: dict) -> list[dict]:
    return client.get("/api/v1/notifications", headers=auth).json()["items"]


def test_reminder_at_80_percent_and_breach_when_the_window_passes_each_once(
    client: TestClient, auth: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    order = client.post(ORDERS, json=COMPLAINT, headers=auth).json()
    clock.advance(minutes=23)  # 30-minute window: the reminder is due at 24 minutes
    assert run_scheduler_once(client.app)["reminders"] == 0
    clock.advance(minutes=1)
    assert run_scheduler_once(client.app)["reminders"] == 1
    assert run_scheduler_once(client.app)["reminders"] == 0
    clock.advance(minutes=6)
    assert run_scheduler_once(client.app)["breaches"] == 1
    assert run_scheduler_once(client.app)["breaches"] == 0
    feed = notifications(client, auth)
    assert [(n["kind"], n["deadline_name"], n["order_id"]) for n in feed] == [
        ("reminder", "response", order["id"]),
        ("breach", "response", order["id"]),
    ]
    assert order["number"] in feed[1]["message"]
    # both went to the notifier webhook, once each
    assert [c["kind"] for c in outbound.webhook_calls] == ["reminder", "breach"]


def test_a_met_deadline_is_neither_reminded_nor_breached(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock
) -> None:
    order = client.post(ORDERS, json=COMPLAINT, headers=auth).json()
    clock.advance(minutes=10)
    client.post(f"{ORDERS}/{order['id']}/actions/respond", headers=agent)
    clock.advance(hours=2)
    assert run_scheduler_once(client.app) == {
        "reminders": 0,
        "breaches": 0,
        "outage_notices": 0,
        "delivered": 0,
        "photos": 0,
        "announced": 0,
        "erased": 0,
        "chats_given": 0,
    }


def test_after_downtime_only_the_breach_is_sent(client: TestClient, auth: dict, clock: FixedClock) -> None:
    client.post(ORDERS, json=COMPLAINT, headers=auth)
    clock.advance(hours=3)
    assert run_scheduler_once(client.app)["breaches"] == 1
    assert [n["kind"] for n in notifications(client, auth)] == ["breach"]


def test_a_restarted_backend_does_not_fire_again(
    make_client: Callable[..., TestClient], auth: dict, clock: FixedClock
) -> None:
    first = make_client()
    first.post(ORDERS, json=COMPLAINT, headers=auth)
    clock.advance(minutes=31)
    assert run_scheduler_once(first.app)["breaches"] == 1
    restarted = make_client()  # a new process on the same database
    assert run_scheduler_once(restarted.app) == {
        "reminders": 0,
        "breaches": 0,
        "outage_notices": 0,
        "delivered": 0,
        "photos": 0,
        "announced": 0,
        "erased": 0,
        "chats_given": 0,
    }
    assert len(notifications(restarted, auth)) == 1


def test_several_processes_scanning_at_once_create_each_notification_once(
    make_client: Callable[..., TestClient], auth: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    apps = [make_client().app for _ in range(4)]
    seeder = make_client()
    for i in range(10):
        seeder.post(ORDERS, json={**COMPLAINT, "resident_openid": f"o{i}"}, headers=auth)
    clock.advance(minutes=31)
    barrier = threading.Barrier(len(apps))
    errors: list[BaseException] = []

    def scan(app: object) -> None:
        barrier.wait()
        try:
            run_scheduler_once(app)  # type: ignore[arg-type]
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=scan, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with seeder.app.state.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 10
    assert sorted(c["order_id"] for c in outbound.webhook_calls) == sorted(
        n["order_id"] for n in notifications(seeder, auth)
    )


def test_a_failing_webhook_is_retried_later_and_nothing_is_lost(
    client: TestClient, auth: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    client.post(ORDERS, json=COMPLAINT, headers=auth)
    outbound.webhook_up = False
    clock.advance(minutes=31)
    assert run_scheduler_once(client.app)["delivered"] == 0
    outbound.webhook_up = True
    assert run_scheduler_once(client.app)["delivered"] == 0  # backing off
    clock.advance(minutes=2)
    assert run_scheduler_once(client.app)["delivered"] == 1
    clock.advance(minutes=10)
    assert run_scheduler_once(client.app)["delivered"] == 0
    assert len(outbound.webhook_calls) == 1
    assert notifications(client, auth)[0]["delivered_at"] is not None


def test_extension_rearms_the_reply_reminder(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock, staff: Callable
) -> None:
    order = client.post(
        ORDERS, json={**COMPLAINT, "source": "city_hotline", "resident_openid": None}, headers=auth
    ).json()
    client.post(f"{ORDERS}/{order['id']}/actions/respond", headers=agent)
    clock.advance(days=6.5)  # reply due Thu 17 Dec 23:59; 80 % of the window is 6.1 days in
    run_scheduler_once(client.app)
    # the 72-hour completion promise (sample operator file) has its own reminder and breach by now
    replies = [n["kind"] for n in notifications(client, auth) if n["deadline_name"] == "reply"]
    assert replies == ["reminder"]
    supervisor = staff("supervisor")  # logs in now: sessions last 12 hours
    extended = client.post(
        f"{ORDERS}/{order['id']}/actions/extend", json={"working_days": 10, "reason": "复杂"}, headers=supervisor
    )
    assert extended.json()["reply_due_at"] == "2026-12-31T15:59:59Z"
    clock.advance(days=12)
    run_scheduler_once(client.app)
    kinds = [n["kind"] for n in notifications(client, auth) if n["deadline_name"] == "reply"]
    assert kinds == ["reminder", "reminder"]


def test_an_urgent_hotline_order_is_not_breached_at_the_first_scan(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, clock: FixedClock
) -> None:
    """10.1.3 即时回退 was stored as due at acceptance: every urgent hotline order breached at once."""
    leak = {
        "kind": "repair",
        "category": "leak",
        "source": "city_hotline",
        "description": "楼道管道漏水",
        "external_reference": "U-1",
    }
    order = client.post("/api/v1/work-orders", json=leak, headers=auth).json()
    assert order["return_due_at"] == order["response_due_at"]
    clock.advance(minutes=1)
    assert run_scheduler_once(client.app)["breaches"] == 0  # type: ignore[arg-type]
    # Responded in time: the order is the company's. A return after the window is recorded as late.
    client.post(f"/api/v1/work-orders/{order['id']}/actions/respond", json={}, headers=agent)
    clock.advance(hours=2)
    returned = client.post(
        f"/api/v1/work-orders/{order['id']}/actions/return",
        json={"note": "已与居民沟通，不属供热范围"},
        headers=supervisor,
    )
    assert returned.status_code == 200
    events = client.get(f"/api/v1/work-orders/{order['id']}/events", headers=agent).json()
    assert events[-1]["action"] == "return" and events[-1]["data"]["late"] is True
    assert run_scheduler_once(client.app)["breaches"] == 0  # type: ignore[arg-type]


# --- the number of an order the bot filed reaches the resident (#22) ------------------------------
def resident_notices(outbound: FakeOutbound) -> list[tuple[str, str, str]]:
    """(resident, intent, message) of every message the backend handed to the bot."""
    return [
        (c["path"].split("/")[2], c["body"]["name"], c["body"]["entities"]["message"])
        for c in outbound.rasa_calls
        if c["path"].endswith("/trigger_intent")
    ]


def filing_turn(openid: str, message_id: str, number: str) -> list[dict[str, Any]]:
    """A conversation whose WeChat turn ``message_id`` answered with the order's number (as Rasa saves it)."""
    said = {"event": "user", "text": "是的", "input_channel": "wechat", "message_id": message_id}
    return [said, {"event": "bot", "text": f"已为您登记工单，单号 {number}，…"}]


def test_the_number_of_an_order_the_bot_filed_is_sent_only_when_the_resident_was_not_sent_it(
    make_client: Callable[..., TestClient], auth: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    """The Rasa server stopped after the action filed the order and before the answer went out, and the
    platform gave up: two minutes later the backend finds no number in the conversation and sends it. A
    conversation that says the number counts only when the channel sent that turn's answer out: Rasa
    saves the turn before the channel answers, and a process stopped in between leaves the number said
    and unheard."""
    client = make_client(filed_number_check_seconds=120)
    filed = {
        openid: client.post(ORDERS, json={**COMPLAINT, "resident_openid": openid}, headers=auth).json()["number"]
        for openid in ("oHEARD", "oLOST", "oSAVED")
    }
    outbound.trackers["oHEARD"] = filing_turn("oHEARD", "msg:oHEARD:1", filed["oHEARD"])
    outbound.answered.add(("oHEARD", "msg:oHEARD:1"))
    outbound.trackers["oSAVED"] = filing_turn("oSAVED", "msg:oSAVED:1", filed["oSAVED"])  # never sent out
    clock.advance(seconds=119)
    run_scheduler_once(client.app)
    assert resident_notices(outbound) == []
    clock.advance(seconds=1)
    run_scheduler_once(client.app)
    notices = {openid: (intent, message) for openid, intent, message in resident_notices(outbound)}
    assert set(notices) == {"oLOST", "oSAVED"}
    for openid, (intent, message) in notices.items():
        assert intent == "EXTERNAL_notice"
        assert filed[openid] in message and "10.1.4" in message and "12月10日10:30前" in message  # Beijing time
    clock.advance(hours=2)
    run_scheduler_once(client.app)
    assert len(resident_notices(outbound)) == 2  # once each
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        checks = select(Notification).where(Notification.kind == "order_filed")
        states = {n.recipient_openid: n.delivery_state for n in session.scalars(checks)}
    assert states == {"oHEARD": "heard_in_chat", "oLOST": "handed_to_channel", "oSAVED": "handed_to_channel"}


def test_a_leak_is_promised_by_its_handling_time_and_the_check_waits_while_the_bot_is_down(
    make_client: Callable[..., TestClient], auth: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    client = make_client(filed_number_check_seconds=120)
    leak = {**COMPLAINT, "kind": "repair", "category": "leak", "resident_openid": "oLEAK", "description": "漏水"}
    order = client.post(ORDERS, json=leak, headers=auth).json()
    outbound.rasa_up = False
    clock.advance(minutes=3)
    run_scheduler_once(client.app)
    assert resident_notices(outbound) == []  # the conversation cannot be read: tried again later
    outbound.rasa_up = True
    clock.advance(minutes=5)
    run_scheduler_once(client.app)
    [(_, _, message)] = resident_notices(outbound)
    assert order["number"] in message and "到场处置（10.2.3）" in message


def test_only_orders_the_bot_filed_are_checked_once_each(
    make_client: Callable[..., TestClient], auth: dict, agent: dict, clock: FixedClock
) -> None:
    client = make_client(filed_number_check_seconds=120)
    headers = {**auth, "Idempotency-Key": "conv-1"}
    client.post(ORDERS, json=COMPLAINT, headers=headers)
    client.post(ORDERS, json=COMPLAINT, headers=headers)  # the same filing retried
    phoned = {**COMPLAINT, "source": "phone", "resident_openid": None, "phone": "13800138000"}
    assert client.post(ORDERS, json=phoned, headers=agent).status_code == 201
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        kinds = [n.kind for n in session.scalars(select(Notification))]
    assert kinds == ["order_filed"]


def test_a_message_for_a_resident_in_the_middle_of_a_form_waits_until_the_form_is_done(
    make_client: Callable[..., TestClient], auth: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    """While a form is active Rasa hands every message to the form: a notice sent then would never be
    shown. It waits (no attempt counted) and goes once the form is over."""
    client = make_client(filed_number_check_seconds=120)
    number = client.post(ORDERS, json={**COMPLAINT, "resident_openid": "oBUSY"}, headers=auth).json()["number"]
    clock.advance(seconds=110)
    outbound.trackers["oBUSY"] = [  # a new filing under way: the form asks for the address
        {"event": "user", "text": "暖气阀门坏了", "timestamp": clock().timestamp()},
        {"event": "active_loop", "name": "filing_form", "timestamp": clock().timestamp()},
    ]
    clock.advance(seconds=10)
    run_scheduler_once(client.app)
    assert resident_notices(outbound) == [] and outbound.state_reads == ["oBUSY"]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        waiting = session.scalars(select(Notification).where(Notification.kind == "order_filed")).one()
        assert (
            waiting.delivered_at is None
            and waiting.delivery_attempts == 0
            and "办完后再发" in (waiting.last_error or "")
        )
    outbound.trackers["oBUSY"].append({"event": "active_loop", "name": None, "timestamp": clock().timestamp() + 30})
    clock.advance(seconds=16)
    run_scheduler_once(client.app)
    [(openid, _, message)] = resident_notices(outbound)
    assert openid == "oBUSY" and number in message


def test_a_form_left_half_done_is_ended_and_the_message_goes_out(
    make_client: Callable[..., TestClient], auth: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    client = make_client(filed_number_check_seconds=120)
    client.post(ORDERS, json={**COMPLAINT, "resident_openid": "oGONE"}, headers=auth)
    outbound.trackers["oGONE"] = [
        {"event": "active_loop", "name": "filing_form", "timestamp": clock().timestamp() - 30 * 60},
    ]
    clock.advance(seconds=121)
    run_scheduler_once(client.app)
    ended = [c for c in outbound.rasa_calls if c["path"].endswith("/oGONE/execute")]
    assert [c["body"]["name"] for c in ended] == ["action_deactivate_loop"]
    assert [openid for openid, _, _ in resident_notices(outbound)] == ["oGONE"]
