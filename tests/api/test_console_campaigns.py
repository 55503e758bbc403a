"""The call-backs and surveys page: a supervisor starts the yearly survey; staff call the households not on
WeChat and record their answers; the figures stand beside the KPIs."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import Browser, FixedClock
from tests.api.test_campaigns import finished


def test_a_campaign_is_started_its_calls_recorded_and_its_figures_shown_with_the_kpis(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, clock: FixedClock, staff: Callable
) -> None:
    finished(client, auth, staff("agent"), source="provincial_hotline", phone="13900000001")
    clock.advance(days=120)  # the 2026-2027 season has ended
    agent, boss = browser("agent"), browser("supervisor")
    assert agent.post("/console/campaigns", {"kind": "callback"}).status_code == 403
    started = boss.post("/console/campaigns", {"kind": "callback"})
    assert started.status_code == 200, started.text
    assert "待电话回访（1 户）" in started.text and "139****0001" in started.text
    contact = started.text.split('data-contact="')[1].split('"')[0]
    recorded = agent.post(
        f"/console/campaigns/contacts/{contact}", {"rating": "basically_satisfied", "note": "已电话回访"}
    )
    assert recorded.status_code == 200 and "待电话回访" not in recorded.text
    kpis = agent.get("/console/kpis").text
    assert "上一供暖季回访（10.1.8） 2026-2027" in kpis and "100.0%" in kpis
