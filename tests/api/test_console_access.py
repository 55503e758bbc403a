"""Every console route has an owner: without a staff session it only redirects to the login, and no
state-changing route acts without the session's CSRF token. Enumerated from the app, so a new page
cannot be added without these guards."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.console.routes import pages
from tests.api.conftest import Browser

OPEN = {("GET", "/console/login"), ("POST", "/console/login")}


def console_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every console page and action, as the app serves them (checked against the app below)."""
    return [(m, p) for m, p in pages() if m in ("GET", "POST") and (m, p) not in OPEN]


def concrete(path: str) -> str:
    """Path parameters filled with plausible values (the guards act before any lookup)."""
    return re.sub(r"\{[^}]+\}", lambda m: "xlsx" if m.group(0) == "{fmt}" else "1", path)


def test_the_list_is_what_the_app_serves(client: TestClient) -> None:
    routes = console_routes(client)
    assert len(routes) >= 40 and ("POST", "/console/chats/{handoff_id}/send") in routes
    for method, path in routes:  # a route missing from the app would answer 404 or 405
        assert client.request(method, concrete(path), follow_redirects=False).status_code not in (404, 405), path


@pytest.mark.parametrize("htmx", [False, True])
def test_without_a_session_every_route_sends_to_the_login(client: TestClient, htmx: bool) -> None:
    headers = {"HX-Request": "true"} if htmx else {}
    for method, path in console_routes(client):
        answer = client.request(method, concrete(path), headers=headers, follow_redirects=False)
        if htmx:
            assert (answer.status_code, answer.headers.get("HX-Redirect")) == (204, "/console/login"), path
        else:
            assert (answer.status_code, answer.headers.get("location")) == (303, "/console/login"), path


def test_no_write_acts_without_the_csrf_token(browser: Callable[[str], Browser]) -> None:
    desk, technician = browser("admin"), browser("technician")
    for method, path in console_routes(desk.client):
        if method != "POST":
            continue
        b = technician if path.startswith("/console/field/") else desk
        answer = b.post(concrete(path), {"text": "x"}, csrf=False)
        assert answer.status_code == 403 and "页面已过期" in answer.text, path


def test_an_unexpected_failure_shows_a_banner_not_json(
    browser: Callable[[str], Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services import handoffs

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database went away")

    b = browser("agent")
    monkeypatch.setattr(handoffs, "list_handoffs", broken)
    answer = b.get("/console/chats", headers={"HX-Request": "true"})
    assert answer.status_code == 500 and "系统出错" in answer.text and "database went away" not in answer.text
    # answered outside the console's middleware, yet with its policy (tests/api/test_console_headers.py)
    for failed in (answer, b.get("/console/chats")):
        assert failed.status_code == 500 and "frame-ancestors 'none'" in failed.headers["Content-Security-Policy"]


def test_an_unreadable_form_shows_a_banner_not_json(browser: Callable[[str], Browser]) -> None:
    from api.console.pages import MAX_FIELD_BYTES

    b = browser("agent")
    answer = b.post("/console/chats/1/notes", {"text": "x" * (MAX_FIELD_BYTES + 1)})
    assert answer.status_code == 400 and "无法读取" in answer.text and '{"code"' not in answer.text


def test_a_request_over_the_body_limit_is_refused_before_it_is_read(browser: Callable[[str], Browser]) -> None:
    from api.console.pages import MAX_BODY_BYTES

    b = browser("agent")
    files = {"file": ("huge.csv", b"x" * (MAX_BODY_BYTES + 1), "text/csv")}
    headers = {"HX-Request": "true", "X-CSRF-Token": b.csrf}
    answer = b.client.post("/console/hotline-import/preview", files=files, headers=headers)
    assert answer.status_code == 413 and "过大" in answer.text


# The technician's own pages (api/console/field.py); everything else of the console is the desk's.
FIELD = {("GET", "/console/field"), ("GET", "/console/field/{order_id}/contact")}
FIELD |= {("POST", "/console/field/{order_id}/actions/{action}")}
EVERYONES = {("GET", "/console/"), ("POST", "/console/logout")}


def test_the_technicians_pages_are_the_ones_listed(client: TestClient) -> None:
    assert {(m, p) for m, p in console_routes(client) if p.startswith("/console/field")} == FIELD


@pytest.mark.parametrize("htmx", [False, True])
def test_a_technician_reaches_no_page_of_the_desk(browser: Callable[[str], Browser], htmx: bool) -> None:
    """The lowest role is an attack path: chats, the order board and any order, exports, settings,
    residents' data. A page opened in the browser goes to 我的工单; anything else is refused, saying why."""
    b = browser("technician")
    for method, path in console_routes(b.client):
        if (method, path) in FIELD | EVERYONES:
            continue
        url = concrete(path).replace("/actions/1", "/actions/respond")
        if method == "GET":
            answer = b.get(url, headers={"HX-Request": "true"} if htmx else {})
        else:
            answer = b.post(url, {"text": "x"}, htmx=htmx)
        if method == "GET" and not htmx:
            assert (answer.status_code, answer.headers.get("location")) == (303, "/console/field"), path
        else:
            assert answer.status_code == 403 and "维修人员账号只能查看和办理派给自己的工单" in answer.text, path


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_the_desk_reaches_no_page_of_the_technicians(browser: Callable[[str], Browser], role: str) -> None:
    b = browser(role)
    for method, path in sorted(FIELD):
        url = concrete(path).replace("/actions/1", "/actions/arrive")
        answer = b.get(url, headers={"HX-Request": "true"}) if method == "GET" else b.post(url)
        assert answer.status_code == 403 and "这是维修人员的页面" in answer.text, path
    assert b.get("/console/field").headers["location"] == "/console/chats"
