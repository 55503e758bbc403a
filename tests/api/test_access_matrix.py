"""Who may call what: every route of /api/v1 (and every work-order action) against every kind of
caller. The table below is the specification; a new route fails the first test until it is added.

"machine" is API_TOKEN (the bot and scripts, acting for a resident); staff are agent, supervisor and
admin; a technician is refused everything but their own login. Anonymous callers and wrong tokens get
401 everywhere but the login. A role outside a route's set gets 403; a role inside it gets past the
check (any other answer: 200, 404, 409, 422 ...).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from heating_standard.lifecycle import Action

MACHINE, AGENT, SUPERVISOR, ADMIN = "machine", "agent", "supervisor", "admin"
# The lowest role: a technician works only their own orders, in the console's 我的工单
# (tests/api/test_field_view.py); of the API they may only log in and out and ask who they are.
TECHNICIAN = "technician"
STAFF = {AGENT, SUPERVISOR, ADMIN}
EVERYONE = STAFF | {MACHINE}
ACCOUNTS = EVERYONE | {TECHNICIAN}
SUPERVISORS = {SUPERVISOR, ADMIN}

# (method, path template) -> roles admitted.
ROUTES: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/v1/work-orders"): EVERYONE,
    ("POST", "/api/v1/work-orders"): EVERYONE,
    ("GET", "/api/v1/work-orders/{order_id}"): EVERYONE,
    ("GET", "/api/v1/work-orders/{order_id}/contact"): STAFF,
    ("GET", "/api/v1/work-orders/{order_id}/events"): EVERYONE,
    ("POST", "/api/v1/work-orders/{order_id}/attachments"): EVERYONE,
    ("POST", "/api/v1/work-orders/{order_id}/actions/{action}"): EVERYONE,  # refined per action below
    ("POST", "/api/v1/work-orders/{order_id}/quote/resend"): STAFF,
    # 10.3 第1条 a: the resident's answer to a test's result comes only through the bot
    ("POST", "/api/v1/work-orders/{order_id}/temperature-test/answer"): {MACHINE},
    ("POST", "/api/v1/work-orders/{order_id}/temperature-test/finding"): STAFF,
    ("POST", "/api/v1/work-orders/{order_id}/temperature-test/refund"): STAFF,
    # 13.3–13.8: a claim's money steps are a supervisor's (the service refuses an agent with 403)
    ("POST", "/api/v1/work-orders/{order_id}/claim"): STAFF,
    ("POST", "/api/v1/work-orders/{order_id}/claim/steps"): STAFF,
    ("POST", "/api/v1/auth/login"): ACCOUNTS,
    ("POST", "/api/v1/auth/logout"): ACCOUNTS,
    ("GET", "/api/v1/auth/me"): ACCOUNTS,
    ("POST", "/api/v1/staff-users"): {ADMIN},
    ("GET", "/api/v1/residents/{openid}"): {MACHINE},
    ("POST", "/api/v1/grid-workers"): SUPERVISORS,
    ("POST", "/api/v1/grid-workers/bind"): {MACHINE},
    ("GET", "/api/v1/grid-workers/{openid}"): EVERYONE,
    ("GET", "/api/v1/notifications"): EVERYONE,
    ("GET", "/api/v1/callbacks"): STAFF,
    ("POST", "/api/v1/callbacks/{task_id}/survey"): SUPERVISORS,
    ("POST", "/api/v1/households/import"): SUPERVISORS,
    ("GET", "/api/v1/personal-data"): SUPERVISORS,
    ("POST", "/api/v1/personal-data/erase"): SUPERVISORS,
    ("GET", "/api/v1/sampling-plans"): STAFF,
    ("POST", "/api/v1/sampling-plans"): SUPERVISORS,
    ("GET", "/api/v1/handoffs"): STAFF,
    ("POST", "/api/v1/handoffs"): {MACHINE},
    ("POST", "/api/v1/handoffs/{handoff_id}/take"): STAFF,
    # the fixture's handoff is held by another agent: only a supervisor may close it, and nobody here
    # may write in its chat
    ("POST", "/api/v1/handoffs/{handoff_id}/close"): SUPERVISORS,
    ("GET", "/api/v1/handoffs/{handoff_id}/messages"): STAFF,
    ("POST", "/api/v1/handoffs/{handoff_id}/messages"): set(),
    ("POST", "/api/v1/outages/preview"): STAFF,
    # 5.2.5, 6.1.1, 9.2.1: announcements to every follower are a supervisor's to make and approve
    ("GET", "/api/v1/announcements"): STAFF,
    # 9.2.2: a supervisor sends fee reminders; staff read them and record the calls
    ("POST", "/api/v1/fee-reminders"): SUPERVISORS,
    # 10.1.8, 14.3.2 e: a supervisor starts a campaign; the bot records its residents' answers, staff the calls
    ("POST", "/api/v1/campaigns"): SUPERVISORS,
    ("GET", "/api/v1/campaigns"): STAFF,
    ("GET", "/api/v1/campaigns/{campaign_id}/contacts"): STAFF,
    ("POST", "/api/v1/campaign-contacts/{contact_id}/answer"): EVERYONE,
    # messages the channel could not deliver, told by phone instead
    ("GET", "/api/v1/notifications/undelivered"): STAFF,
    ("POST", "/api/v1/notifications/{notification_id}/phoned"): STAFF,
    ("GET", "/api/v1/fee-reminders"): STAFF,
    ("POST", "/api/v1/fee-reminders/{reminder_id}/called"): STAFF,
    ("POST", "/api/v1/announcements/preview"): SUPERVISORS,
    ("POST", "/api/v1/announcements"): SUPERVISORS,
    ("POST", "/api/v1/announcements/{announcement_id}/approve"): SUPERVISORS,
    ("POST", "/api/v1/announcements/{announcement_id}/cancel"): SUPERVISORS,
    ("POST", "/api/v1/announcements/{announcement_id}/sent"): SUPERVISORS,
    ("POST", "/api/v1/announcements/{announcement_id}/release"): SUPERVISORS,
    ("GET", "/api/v1/outages"): EVERYONE,
    ("POST", "/api/v1/outages"): STAFF,
    ("PATCH", "/api/v1/outages/{outage_id}"): STAFF,
    ("GET", "/api/v1/kpis"): STAFF,
    ("GET", "/api/v1/status"): EVERYONE,
    ("POST", "/api/v1/review-items"): {MACHINE},
    ("GET", "/api/v1/review-items"): STAFF,
    ("GET", "/api/v1/review-items/export"): SUPERVISORS | {MACHINE},
    ("POST", "/api/v1/review-items/{item_id}/label"): STAFF,
    ("POST", "/api/v1/review-items/{item_id}/approve"): SUPERVISORS,
    ("GET", "/api/v1/review-intents"): STAFF,
    ("GET", "/api/v1/bot-figures"): STAFF,
    ("GET", "/api/v1/models"): STAFF,
    # the machine token: `make retrain` on the server
    ("POST", "/api/v1/models"): SUPERVISORS | {MACHINE},
    # Rasa's model server: every Rasa process pulls the model in force with the machine token
    ("GET", "/api/v1/models/active/file"): {MACHINE},
    ("GET", "/api/v1/models/{model_id}"): STAFF | {MACHINE},
    ("POST", "/api/v1/models/{model_id}/activate"): SUPERVISORS,
    ("POST", "/api/v1/models/{model_id}/progress"): {MACHINE},
}

# Work-order actions: staff work the order, a supervisor approves (10.1.3), the resident confirms a
# quote through the bot (10.2.2), a call-back is staff's or the bot's (WeChat survey).
ACTIONS: dict[str, set[str]] = {
    "respond": STAFF,
    "dispatch": STAFF,
    "arrive": STAFF,
    "quote": STAFF,
    "complete": STAFF,
    "close": STAFF,
    "return": SUPERVISORS,
    "extend": SUPERVISORS,
    "cancel": SUPERVISORS,
    "confirm_quote": {MACHINE},
    "callback": EVERYONE,
    "reschedule": STAFF,
    "mark_unreasonable": SUPERVISORS,
    "mark_reasonable": SUPERVISORS,
}

PUBLIC = {("POST", "/api/v1/auth/login")}
# Bodies for routes whose owner is checked after the body is read (else every caller gets a 422 first).
BODIES = {"/api/v1/handoffs/{handoff_id}/messages": {"text": "您好"}}


def test_the_table_names_every_route_and_action(client: TestClient) -> None:
    served = {
        (method.upper(), path)
        for path, operations in client.get("/openapi.json").json()["paths"].items()
        if path.startswith("/api/v1")
        for method in operations
    }
    assert served == set(ROUTES)
    assert set(ACTIONS) == {a.value for a in Action}


@pytest.fixture
def callers(client: TestClient, auth: dict, staff: Callable[[str], dict]) -> dict[str, dict]:
    return {
        MACHINE: auth,
        AGENT: staff("agent"),
        SUPERVISOR: staff("supervisor"),
        ADMIN: staff("admin"),
        TECHNICIAN: staff("technician"),
    }


def make_ids(client: httpx.Client, auth: dict, agent: dict, other_agent: dict) -> dict[str, str]:
    """One of everything a path can name; the handoff is held by ``other_agent``. ``client`` is the app's
    TestClient, or an httpx client of the running product (the scaled layout's e2e test)."""
    order = client.post(
        "/api/v1/work-orders",
        json={
            "kind": "complaint",
            "category": "service",
            "source": "wechat",
            "description": "态度差",
            "resident_openid": "oMATRIX",
            "address": "阳光小区3号楼2单元501",
        },
        headers=auth,
    ).json()
    for step in ("respond", "complete"):
        client.post(f"/api/v1/work-orders/{order['id']}/actions/{step}", headers=agent)
    task = client.get("/api/v1/callbacks", headers=agent).json()["items"][0]
    handoff = client.post("/api/v1/handoffs", json={"resident_openid": "oMATRIX", "reason": "other"}, headers=auth)
    client.post(f"/api/v1/handoffs/{handoff.json()['id']}/take", headers=other_agent)
    outage = client.post(
        "/api/v1/outages",
        json={
            "communities": ["阳光小区"],
            "heated_area_m2": 1000,
            "started_at": "2026-12-10T08:00:00+08:00",
            "expected_restoration_at": "2026-12-10T12:00:00+08:00",
            "cause_code": "pipe_burst",
            "repair_location": "文化路",
        },
        headers=agent,
    )
    review = client.post(
        "/api/v1/review-items",
        json={"message_key": "a" * 64, "text": "暖气片咕噜咕噜响", "reason": "fallback"},
        headers=auth,
    )
    return {
        "item_id": str(review.json()["id"]),
        "model_id": "1",  # none trained: the guards answer before the model is looked for
        "order_id": str(order["id"]),
        "openid": "oMATRIX",
        "task_id": str(task["id"]),
        "handoff_id": str(handoff.json()["id"]),
        "outage_id": str(outage.json()["id"]),
        "announcement_id": "1",  # none made: the guards answer before it is looked for
        "reminder_id": "1",
        "notification_id": "1",
        "campaign_id": "1",
        "contact_id": "1",
    }


@pytest.fixture
def ids(client: TestClient, auth: dict, callers: dict[str, dict], staff: Callable[[str], dict]) -> dict[str, str]:
    return make_ids(client, auth, callers[AGENT], staff("agent"))


def concrete(path: str, ids: dict[str, str], action: str = "respond") -> str:
    return path.format(**ids, action=action)


def calls(ids: dict[str, str]) -> list[tuple[str, str, set[str], dict]]:
    """(method, concrete path, admitted roles, body), the action route once per action; logout last."""
    result = []
    for (method, path), roles in ROUTES.items():
        body = BODIES.get(path, {})
        if path.endswith("/actions/{action}"):
            result += [(method, concrete(path, ids, action), owners, body) for action, owners in ACTIONS.items()]
        elif path != "/api/v1/auth/logout":
            result.append((method, concrete(path, ids), roles, body))
    result.append(("POST", "/api/v1/auth/logout", ROUTES[("POST", "/api/v1/auth/logout")], {}))
    return result


def unauthenticated_answers(client: httpx.Client, ids: dict[str, str]) -> list[tuple[str, str, dict, int]]:
    """Every call without a valid token that was not answered 401 (should be none)."""
    wrong = []
    for method, path, _, body in calls(ids):
        if (method, path) in PUBLIC:
            continue
        for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic dGVzdDp0ZXN0"}):
            resp = client.request(method, path, json=body, headers=headers)
            if resp.status_code != 401:
                wrong.append((method, path, headers, resp.status_code))
    return wrong


def role_mismatches(client: httpx.Client, ids: dict[str, str], headers: dict, role: str) -> tuple[list, list]:
    """(calls the role may make that were refused, calls it may not make that got past the check)."""
    refused, admitted = [], []
    for method, path, roles, body in calls(ids):
        resp = client.request(method, path, json=body, headers=headers)
        if role in roles:
            if resp.status_code in (401, 403):
                refused.append((method, path, resp.status_code, resp.text))
        elif resp.status_code != 403 and (method, path) not in PUBLIC:
            admitted.append((method, path, resp.status_code))
    return refused, admitted


def test_anonymous_and_wrong_tokens_get_401_everywhere(client: TestClient, ids: dict[str, str]) -> None:
    assert unauthenticated_answers(client, ids) == []


@pytest.mark.parametrize("role", [MACHINE, AGENT, SUPERVISOR, ADMIN, TECHNICIAN])
def test_each_role_gets_exactly_its_routes_and_actions(
    client: TestClient, ids: dict[str, str], callers: dict[str, dict], role: str
) -> None:
    refused, admitted = role_mismatches(client, ids, callers[role], role)
    assert refused == [], f"{role} was refused what it may do"
    assert admitted == [], f"{role} got past the check of what it may not do"
