"""The announcements page: a supervisor drafts from the operator's facts, previews, approves; the scheduler
sends; an agent only reads."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from tests.api.conftest import Browser, FakeOutbound, FixedClock
from tests.api.test_announcements import client_settings  # noqa: F401  (next season's dates)

FORM = {"kind": "price_change", "scheduled_at": "2026-12-12T09:00", "price_from": "2027-01-01"}


def test_a_supervisor_drafts_previews_and_approves_and_an_agent_only_reads(
    browser: Callable[[str], Browser], client: TestClient, clock: FixedClock, outbound: FakeOutbound
) -> None:
    outbound.followers = 42
    agent, boss = browser("agent"), browser("supervisor")
    assert "拟定新的公告" not in agent.get("/console/announcements").text
    assert agent.post("/console/announcements", FORM).status_code == 403
    preview = boss.post("/console/announcements/preview", FORM)
    assert preview.status_code == 200 and "【热价调整公告】" in preview.text and "42 位" in preview.text
    late = boss.post("/console/announcements/preview", {**FORM, "price_from": "2026-12-11"})
    assert late.status_code == 422 and "价格调整须在执行前告知热用户（9.2.1）" in late.text
    drafted = boss.post("/console/announcements", FORM)
    assert drafted.status_code == 200 and "待批准" in drafted.text
    announcement_id = drafted.text.split('data-announcement="')[1].split('"')[0]
    assert agent.post(f"/console/announcements/{announcement_id}/approve").status_code == 403
    approved = boss.post(f"/console/announcements/{announcement_id}/approve")
    assert (
        approved.status_code == 200 and "已批准，待发送" in approved.text and "本月已安排或发出 1 / 4" in approved.text
    )
    clock.advance(days=2)
    run_scheduler_once(client.app)
    page = browser("agent").get("/console/announcements").text
    assert "已群发" in page and "（42 位关注者）" in page
