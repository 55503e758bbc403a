"""Regression tests of the hardening review: each fails on the code before it.

Idempotency keys scoped to their caller, back-dating, bounds on times and numbers, concurrent first
orders, passwords and logins, masked personal data, owners of actions, outage notices, delivery, and
the API description in production.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import bcrypt
import pytest
from fastapi.testclient import TestClient

from api.errors import NotAuthenticated
from api.main import run_scheduler_once
from api.operator_config import SAMPLE_PATH
from api.schemas import WorkOrderCreate
from api.services import staff as staff_service
from api.services import work_orders
from tests.api.conftest import PASSWORD, FakeOutbound, FixedClock, act, add_staff_user, to_site

ORDERS = "/api/v1/work-orders"
REPAIR = {
    "kind": "repair",
    "category": "equipment",
    "source": "wechat",
    "description": "阀门坏了",
    "resident_openid": "oOWNER",
    "phone": "13800138000",
    "address": "阳光小区3号楼2单元501",
}


def create(client: TestClient, headers: dict, **fields: object) -> dict:
    resp = client.post(ORDERS, json={**REPAIR, **fields}, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


# --- idempotency keys ------------------------------------------------------------------------------
def test_a_reused_key_with_another_body_is_refused_and_never_returns_the_first_order(
    client: TestClient, auth: dict
) -> None:
    key = {"Idempotency-Key": "conv-1"}
    first = client.post(ORDERS, json=REPAIR, headers={**auth, **key})
    assert first.status_code == 201
    again = client.post(ORDERS, json=REPAIR, headers={**auth, **key})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = client.post(
        ORDERS, json={**REPAIR, "resident_openid": "oSECOND", "phone": "13900001111"}, headers={**auth, **key}
    )
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    assert "13800138000" not in other.text


def test_keys_belong_to_their_caller(client: TestClient, auth: dict, agent: dict) -> None:
    key = {"Idempotency-Key": "shared-key"}
    by_bot = client.post(ORDERS, json=REPAIR, headers={**auth, **key})
    by_agent = client.post(ORDERS, json={**REPAIR, "source": "phone"}, headers={**agent, **key})
    assert (by_bot.status_code, by_agent.status_code) == (201, 201)
    assert by_bot.json()["id"] != by_agent.json()["id"]


# --- concurrent first orders of a new resident -------------------------------------------------------
def test_concurrent_first_orders_of_a_new_resident_all_succeed(client: TestClient) -> None:
    app = client.app
    ctx = work_orders.Context(now=app.state.clock(), config=app.state.operator_config)  # type: ignore[attr-defined]
    data = WorkOrderCreate(**{**REPAIR, "resident_openid": "oBRAND-NEW"})
    failures: list[BaseException] = []
    barrier = threading.Barrier(12)

    def file_one() -> None:
        barrier.wait()
        try:
            with app.state.session_factory() as session:  # type: ignore[attr-defined]
                work_orders.create_work_order(session, data, ctx, actor="machine")
        except BaseException as exc:  # collected and reported below
            failures.append(exc)

    threads = [threading.Thread(target=file_one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    listed = client.get(
        ORDERS, params={"resident_openid": "oBRAND-NEW"}, headers={"Authorization": "Bearer test-api-token"}
    )
    assert listed.json()["total"] == 12


# --- back-dating -----------------------------------------------------------------------------------
def test_staff_may_back_date_only_within_the_window(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock
) -> None:
    order = create(client, auth)
    clock.advance(minutes=25)
    too_far = act(client, agent, order["id"], "respond", at=(clock.now - timedelta(minutes=20)).isoformat())
    assert too_far.status_code == 422 and too_far.json()["field"] == "at"
    near = act(client, agent, order["id"], "respond", at=(clock.now - timedelta(minutes=10)).isoformat())
    assert near.status_code == 200
    assert near.json()["responded_at"] == (clock.now - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")


def test_a_supervisor_back_dates_further_with_a_reason_but_deadlines_count_the_entry_time(
    client: TestClient, auth: dict, supervisor: dict, clock: FixedClock
) -> None:
    order = create(client, auth)
    clock.advance(hours=3)
    claimed = clock.now - timedelta(hours=2, minutes=50)  # inside the 30-minute window, it says
    without = act(client, supervisor, order["id"], "respond", at=claimed.isoformat())
    assert without.status_code == 422 and without.json()["field"] == "backdate_reason"
    beyond = act(
        client,
        supervisor,
        order["id"],
        "respond",
        at=(clock.now - timedelta(hours=80)).isoformat(),
        backdate_reason="x",
    )
    assert beyond.status_code == 422
    done = act(client, supervisor, order["id"], "respond", at=claimed.isoformat(), backdate_reason="电话记录补录")
    assert done.status_code == 200
    # the KPI field holds the entry time: the 30-minute response window was missed
    assert done.json()["responded_at"] == clock.now.isoformat().replace("+00:00", "Z")
    event = client.get(f"{ORDERS}/{order['id']}/events", headers=supervisor).json()[-1]
    assert event["at"] == claimed.isoformat().replace("+00:00", "Z")
    assert event["recorded_at"] == clock.now.isoformat().replace("+00:00", "Z")
    assert event["data"]["backdate_reason"] == "电话记录补录"
    kpis = client.get(
        "/api/v1/kpis",
        params={"start": "2026-12-01T00:00:00+08:00", "end": "2027-01-01T00:00:00+08:00"},
        headers=supervisor,
    ).json()
    response = next(k for k in kpis["kpis"] if k["name"] == "repair_response_rate")
    assert (response["numerator"], response["denominator"]) == (0, 1)


@pytest.mark.parametrize(
    "accepted_at", ["1990-01-01T00:00:00+08:00", "2024-06-30T12:00:00+08:00", "9999-12-31T23:59:59+00:00"]
)
def test_acceptance_times_are_bounded(client: TestClient, auth: dict, accepted_at: str) -> None:
    resp = client.post(ORDERS, json={**REPAIR, "accepted_at": accepted_at}, headers=auth)
    assert resp.status_code == 422 and resp.json()["field"] == "accepted_at"


# --- numbers and times at the edges ----------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        f"{ORDERS}/{2**31}",  # past PostgreSQL's integer ids: was a 500 there (an overflow), fine on SQLite
        f"{ORDERS}/{2**31}/events",
        f"/api/v1/notifications?after_id={2**31}",
        f"{ORDERS}/{2**63}",
        f"{ORDERS}/{2**64 + 5}",
        f"{ORDERS}/0",
        f"{ORDERS}?offset={2**63}",
        f"{ORDERS}?due_before=9999-12-31T23:59:59Z",
        "/api/v1/notifications?after_id=99999999999999999999999",
        "/api/v1/kpis?start=0001-01-01T00:00:00Z&end=9999-12-31T23:59:59Z",
    ],
)
def test_numbers_and_dates_beyond_range_are_a_422(client: TestClient, supervisor: dict, path: str) -> None:
    assert client.get(path, headers=supervisor).status_code == 422


def test_infinity_and_nan_are_refused(client: TestClient, supervisor: dict) -> None:
    body = (
        '{"communities": ["阳光小区"], "heated_area_m2": Infinity, "started_at": "2026-12-10T08:00:00+08:00",'
        ' "expected_restoration_at": "2026-12-10T12:00:00+08:00", "cause_code": "pipe_burst",'
        ' "repair_location": "文化路"}'
    )
    resp = client.post("/api/v1/outages", content=body, headers={**supervisor, "Content-Type": "application/json"})
    assert resp.status_code == 422


# --- passwords and logins --------------------------------------------------------------------------
def test_a_password_over_72_bytes_is_a_422_when_set_and_a_401_at_login(
    client: TestClient, staff: Callable[[str], dict]
) -> None:
    admin = staff("admin")
    long_chinese = "供热" * 13  # 26 characters, 78 bytes
    made = client.post(
        "/api/v1/staff-users",
        json={"username": "long1", "display_name": "x", "role": "agent", "password": long_chinese},
        headers=admin,
    )
    assert made.status_code == 422 and made.json()["field"] == "password"
    add_staff_user(client, "plain", "agent")
    login = client.post("/api/v1/auth/login", json={"username": "plain", "password": "x" * 200})
    assert login.status_code == 401


def test_unknown_usernames_cost_the_same_bcrypt_work_as_real_ones() -> None:
    for rounds in (4, 12):
        assert staff_service._dummy_hash(rounds).startswith(f"$2b${rounds:02d}$".encode())
    assert bcrypt.checkpw(b"not-a-password", staff_service._dummy_hash(4))


def from_address(client: TestClient, address: str) -> TestClient:
    """The same app, reached from another address."""
    return TestClient(client.app, client=(address, 40000), raise_server_exceptions=False)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> int:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password}).status_code


def test_guessing_from_one_address_locks_only_that_address_out_of_the_account(client: TestClient) -> None:
    """The review's N7: five wrong passwords from anywhere locked the account, the right one then 429."""
    add_staff_user(client, "admin1", "admin")
    attacker, desk = from_address(client, "198.51.100.7"), from_address(client, "203.0.113.5")
    assert [log_in(attacker, "admin1", "guess") for _ in range(5)] == [401] * 5
    assert log_in(attacker, "admin1") == 429  # even the right password, from there
    assert log_in(desk, "admin1") == 200  # the administrator, who never logged in before, elsewhere


def test_an_account_guessed_at_from_everywhere_still_opens_from_its_usual_address(
    make_client: Callable[..., TestClient], client: TestClient, clock: FixedClock
) -> None:
    app = make_client(login_failures_per_account_anywhere=6)
    add_staff_user(client, "admin2", "admin")
    desk = from_address(app, "203.0.113.5")
    assert log_in(desk, "admin2") == 200  # an address it logs in from
    clock.advance(days=20)
    for n in range(3):  # six failures in all, from three addresses
        assert [log_in(from_address(app, f"198.51.100.{n}"), "admin2", "guess") for _ in range(2)] == [401, 401]
    assert log_in(from_address(app, "198.51.100.9"), "admin2", "guess") == 429  # the slow-down, anywhere else
    assert log_in(from_address(app, "192.0.2.44"), "admin2") == 429  # its owner too, from a new address
    assert log_in(desk, "admin2") == 200  # but not at the desk


def test_guessing_from_a_shared_address_leaves_colleagues_who_log_in_from_it(
    make_client: Callable[..., TestClient], client: TestClient
) -> None:
    """A whole office behind one NAT address was shut out by 30 failures from it (N7)."""
    app = make_client(login_failures_per_address=5)
    office = from_address(app, "203.0.113.80")
    add_staff_user(client, "li", "agent")
    add_staff_user(client, "zhao", "agent")
    assert log_in(office, "li") == 200
    assert [log_in(office, f"nobody{n}", "guess") for n in range(5)] == [401] * 5
    assert log_in(office, "nobody9", "guess") == 429
    assert log_in(office, "li") == 200  # she logs in from here
    assert log_in(office, "zhao") == 429  # a first login from the address waits for the window


def test_parallel_guesses_past_the_limit_are_refused_but_the_allowed_one(client: TestClient) -> None:
    """The review's N8: with four failures on record, 30 parallel guesses had 15 evaluated; one is allowed."""
    add_staff_user(client, "raced", "agent")
    attacker = from_address(client, "198.51.100.7")
    assert [log_in(attacker, "raced", "guess") for _ in range(4)] == [401] * 4
    app = client.app
    limits = staff_service.LoginLimits(rounds=4)
    outcomes: list[str] = []
    barrier = threading.Barrier(30)

    def guess() -> None:
        barrier.wait()
        with app.state.session_factory() as session:  # type: ignore[attr-defined]
            try:
                staff_service.login(
                    session, "raced", "guess", "198.51.100.7", app.state.clock(), timedelta(hours=1), limits
                )  # type: ignore[attr-defined]
            except staff_service.TooManyAttempts:
                outcomes.append("refused")
            except NotAuthenticated:
                outcomes.append("evaluated")

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["evaluated"] + ["refused"] * 29


def test_a_lock_passes_with_its_window(client: TestClient, clock: FixedClock) -> None:
    add_staff_user(client, "patient", "agent", password="correct horse 1")
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"username": "patient", "password": "guess"})
    clock.advance(minutes=16)
    assert (
        client.post("/api/v1/auth/login", json={"username": "patient", "password": "correct horse 1"}).status_code
        == 200
    )


# --- personal data ---------------------------------------------------------------------------------
def test_staff_see_contact_data_masked_and_read_it_whole_on_purpose(
    client: TestClient, auth: dict, agent: dict
) -> None:
    order = create(client, auth, description="阀门坏了，打我另一个电话13912345678")
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth).json()["phone"] == "13800138000"
    shown = client.get(f"{ORDERS}/{order['id']}", headers=agent).json()
    assert shown["phone"] == "138****8000"
    assert shown["description"] == "阀门坏了，打我另一个电话139****5678"
    assert shown["address"] == "阳光小区3号楼****" and shown["room"] == "***"
    listed = client.get(ORDERS, headers=agent).json()["items"][0]
    assert listed["phone"] == "138****8000"
    whole = client.get(f"{ORDERS}/{order['id']}/contact", headers=agent).json()
    assert whole == {"phone": "13800138000", "address": "阳光小区3号楼2单元501", "contact_name": None}
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=agent).json()
    assert events[-1]["action"] == "contact_viewed" and events[-1]["actor"].startswith("staff:agent-")
    assert client.get(f"{ORDERS}/{order['id']}/contact", headers=auth).status_code == 403
    assert client.get("/api/v1/residents/oOWNER", headers=agent).status_code == 403


# --- owners of actions -----------------------------------------------------------------------------
def test_only_the_holder_or_a_supervisor_closes_a_handoff(
    client: TestClient, auth: dict, staff: Callable[[str], dict]
) -> None:
    holder, other, supervisor = staff("agent"), staff("agent"), staff("supervisor")
    handoff = client.post(
        "/api/v1/handoffs", json={"resident_openid": "oH", "reason": "requested"}, headers=auth
    ).json()
    assert (
        client.post(
            "/api/v1/handoffs", json={"resident_openid": "oH", "reason": "requested"}, headers=holder
        ).status_code
        == 403
    )
    client.post(f"/api/v1/handoffs/{handoff['id']}/take", headers=holder)
    assert client.post(f"/api/v1/handoffs/{handoff['id']}/close", headers=other).status_code == 403
    assert client.post(f"/api/v1/handoffs/{handoff['id']}/close", headers=supervisor).json()["status"] == "closed"


def test_the_bot_records_a_wechat_callback_only_for_the_orders_own_resident(
    client: TestClient, auth: dict, agent: dict
) -> None:
    order = create(client, auth, kind="complaint", category="service")
    act(client, agent, order["id"], "respond")
    act(client, agent, order["id"], "complete")
    answers = {"method": "wechat", "process_satisfied": True, "result_satisfied": True}
    assert act(client, auth, order["id"], "callback", **answers).status_code == 404
    assert act(client, auth, order["id"], "callback", **answers, resident_openid="oATTACKER").status_code == 404
    by_phone = {**answers, "method": "phone", "resident_openid": "oOWNER"}
    assert act(client, auth, order["id"], "callback", **by_phone).status_code == 403
    assert act(client, auth, order["id"], "respond", resident_openid="oOWNER").status_code == 403
    assert act(client, auth, order["id"], "callback", **answers, resident_openid="oOWNER").status_code == 200


def test_the_machine_token_cannot_make_accounts(client: TestClient, auth: dict) -> None:
    made = client.post(
        "/api/v1/staff-users",
        json={"username": "evil", "display_name": "x", "role": "admin", "password": "password12"},
        headers=auth,
    )
    assert made.status_code == 403


# --- outage notices --------------------------------------------------------------------------------
NOTICE = {
    "communities": ["阳光小区"],
    "heated_area_m2": 120000,
    "started_at": "2026-12-10T08:00:00+08:00",
    "expected_restoration_at": "2026-12-11T12:00:00+08:00",
    "cause_code": "station_failure",
    "cause_note": "循环泵损坏",
    "repair_location": "阳光小区换热站",
}


def test_a_notice_is_composed_previewed_and_needs_a_supervisor(
    client: TestClient, auth: dict, agent: dict, supervisor: dict
) -> None:
    create(client, auth, address="阳光小区5号楼1单元101", resident_openid="oSUN")
    preview = client.post("/api/v1/outages/preview", json=NOTICE, headers=agent).json()
    assert preview["message"].startswith("【停热通知】因换热站设备故障（循环泵损坏），阳光小区暂停供热")
    assert preview["recipients"] == 1 and preview["needs_supervisor"] is True
    assert client.get("/api/v1/outages", headers=agent).json()["items"] == []  # nothing stored
    assert client.post("/api/v1/outages", json=NOTICE, headers=agent).status_code == 403
    assert client.post("/api/v1/outages", json=NOTICE, headers=auth).status_code == 403
    assert client.post("/api/v1/outages", json=NOTICE, headers=supervisor).status_code == 201


def test_an_agents_back_dated_short_outage_tells_no_resident(
    client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound, clock: FixedClock
) -> None:
    """The review's N3: an agent recorded an outage of under 24 hours that started six days ago; the
    scheduler found it over a day old and past its time, and told every resident it ran over."""
    create(client, auth, address="阳光小区5号楼1单元101", resident_openid="oSUN")
    back_dated = {
        **NOTICE,
        "started_at": "2026-12-04T10:00:00+08:00",
        "expected_restoration_at": "2026-12-05T09:00:00+08:00",
    }
    made = client.post("/api/v1/outages", json=back_dated, headers=agent)
    assert made.status_code == 201 and made.json()["notified_at"] is None
    assert run_scheduler_once(client.app)["outage_notices"] == 1  # staff's alert to set a new time
    assert [c["path"] for c in outbound.rasa_calls] == []
    alerts = client.get("/api/v1/notifications", params={"kind": "outage_overrun"}, headers=agent).json()
    assert len(alerts["items"]) == 1
    clock.advance(hours=23, minutes=59)
    assert run_scheduler_once(client.app)["outage_notices"] == 0
    # Still not restored a day after it was entered: the outage is real time the system saw pass.
    clock.advance(minutes=2)
    assert run_scheduler_once(client.app)["outage_notices"] == 1
    told = outbound.rasa_calls[-1]
    assert told["path"] == "/conversations/oSUN/trigger_intent"
    assert told["body"]["entities"]["message"].startswith("【停热超时通知】")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cause", "请扫码缴纳抢修费 http://pay.example"),
        ("cause_code", "free_text"),
        ("cause_note", "详询 13800138000"),
        ("cause_note", "请访问 www.pay.example 缴费"),
        ("cause_note", "很长" * 20),
        ("repair_location", "<a href=x>点此</a>"),
    ],
)
def test_free_text_cannot_ride_in_a_notice(client: TestClient, supervisor: dict, field: str, value: str) -> None:
    resp = client.post("/api/v1/outages", json={**NOTICE, field: value}, headers=supervisor)
    assert resp.status_code == 422


# --- delivery --------------------------------------------------------------------------------------
def test_a_notice_rasa_only_returned_is_not_counted_as_delivered(
    client: TestClient, auth: dict, supervisor: dict, outbound: FakeOutbound, clock: FixedClock
) -> None:
    create(client, auth, address="阳光小区5号楼1单元101", resident_openid="oSUN")
    outbound.rasa_returns_messages = True
    client.post("/api/v1/outages", json=NOTICE, headers=supervisor)
    assert run_scheduler_once(client.app)["delivered"] == 0
    outbound.rasa_returns_messages = False
    clock.advance(minutes=5)
    assert run_scheduler_once(client.app)["delivered"] == 1
    assert outbound.rasa_calls[-1]["params"]["output_channel"] == "wechat"


# --- production ------------------------------------------------------------------------------------
def test_the_api_description_is_not_public_in_production(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    confirmed = tmp_path / "operator.yml"  # production refuses the shipped sample file
    shutil.copy(SAMPLE_PATH, confirmed)
    client = make_client(
        app_env="production",
        api_token="Zq8v-3kLw9pT2mXc",
        rasa_auth_token="R7n1-yH4sQe6uB0d",
        operator_config=str(confirmed),
    )
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404
    assert client.get("/health").status_code == 200


def test_production_refuses_an_operator_file_without_completion_promises(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """10.1.4 (办结条): without the file's promises, complaints and repairs would have no completion time."""
    text = SAMPLE_PATH.read_text(encoding="utf-8")
    unpromised = tmp_path / "operator.yml"
    unpromised.write_text(text.replace("    repair: {default: 24, leak: 4, no_heat: 12}\n", ""), encoding="utf-8")
    with pytest.raises(RuntimeError, match="promises.completion_hours.repair.default"):
        make_client(
            app_env="production",
            api_token="Zq8v-3kLw9pT2mXc",
            rasa_auth_token="R7n1-yH4sQe6uB0d",
            operator_config=str(unpromised),
        )


def test_the_api_description_is_there_in_development(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 200


def test_a_handoff_summary_shows_staff_phone_numbers_masked(client: TestClient, auth: dict, agent: dict) -> None:
    body = {"resident_openid": "oQUOTE", "reason": "requested", "summary": "住户：找人工，我电话13800138000"}
    client.post("/api/v1/handoffs", json=body, headers=auth)
    listed = client.get("/api/v1/handoffs", headers=agent).json()["items"]
    assert listed[0]["summary"] == "住户：找人工，我电话138****8000"


# --- quotes (10.2.2) -------------------------------------------------------------------------------
def test_a_quote_is_sent_to_the_wechat_resident_who_alone_confirms_it(
    client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    order = create(client, auth)
    to_site(client, agent, order["id"])
    items = [{"item": "更换暖气阀门", "material": "DN20铜阀", "quantity": 2, "price": "45.50"}]
    assert act(client, agent, order["id"], "quote", quote_items=items).status_code == 200
    run_scheduler_once(client.app)
    sent = outbound.rasa_calls[-1]
    assert sent["path"] == "/conversations/oOWNER/trigger_intent"
    assert sent["body"]["name"] == "EXTERNAL_quote_confirmation"
    entities = sent["body"]["entities"]
    assert (entities["order_id"], entities["order_number"]) == (order["id"], order["number"])
    assert (
        "更换暖气阀门（DN20铜阀） ×2，单价 45.50 元" in entities["message"] and "合计 91.00 元" in entities["message"]
    )
    assert act(client, agent, order["id"], "confirm_quote", note="住户说可以").status_code == 403
    assert act(client, auth, order["id"], "confirm_quote", resident_openid="oOWNER").status_code == 200


def test_staff_record_the_paper_confirmation_of_a_resident_without_wechat(
    client: TestClient, auth: dict, agent: dict
) -> None:
    order = create(client, auth, resident_openid=None, source="phone")
    to_site(client, agent, order["id"])
    act(client, agent, order["id"], "quote", quote_items=[{"item": "更换排气阀", "quantity": 1, "price": "20"}])
    without_note = act(client, agent, order["id"], "confirm_quote")
    assert without_note.status_code == 422 and without_note.json()["field"] == "note"
    assert act(client, agent, order["id"], "confirm_quote", note="住户在报价单上签字").status_code == 200
    assert act(client, agent, order["id"], "complete", result="已更换").json()["status"] == "completed"
