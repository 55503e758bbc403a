"""Every console response forbids framing and any script or style but the console's own files (N18):
pages, fragments, errors, redirects, static files and the login page alike."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from api.console.pages import HERE
from tests.api.conftest import Browser, add_staff_user
from tests.api.test_console_access import concrete, console_routes


def assert_guarded(answer: httpx.Response, what: str) -> None:
    policy = answer.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ") if d}
    assert directives.get("frame-ancestors") == ["'none'"], (what, answer.status_code, policy)
    assert directives.get("script-src") == ["'self'"] and directives.get("style-src") == ["'self'"], what
    assert directives.get("default-src") == ["'none'"], what
    assert answer.headers.get("X-Frame-Options") == "DENY", what


def test_every_console_route_carries_the_policy_logged_in_or_not(
    client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    add_staff_user(client, "headers-admin", "admin")
    staff = Browser(make_client(console_stream_lifetime_seconds=0.2))  # the top bar's stream ends soon
    assert staff.login("headers-admin").status_code == 303
    for method, path in console_routes(client):
        for who, answer in (
            ("anonymous", client.request(method, concrete(path), follow_redirects=False)),
            ("staff", staff.client.request(method, concrete(path), follow_redirects=False)),
        ):
            assert_guarded(answer, f"{who} {method} {path}")
    for path in ("/console/login", "/console/static/console.js", "/console/static/vendor/htmx-2.0.11.min.js"):
        assert_guarded(client.get(path), path)
    assert_guarded(client.get("/console/no-such-page"), "a page that does not exist")


def test_the_api_and_the_health_check_are_left_as_they_were(client: TestClient) -> None:
    assert "Content-Security-Policy" not in client.get("/health").headers
    assert "X-Frame-Options" not in client.get("/api/v1/handoffs").headers


def test_the_console_templates_hold_no_inline_script_handler_or_style() -> None:
    """What the policy would block in a browser (the e2e test checks the pages in one)."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|\son[a-z]+=|\shx-on|<style|\sstyle=", re.I)
    found = [
        f"{page.name}: {match.group(0)}"
        for page in sorted((HERE / "templates").glob("*.html"))
        for match in inline.finditer(page.read_text(encoding="utf-8"))
    ]
    assert found == []
