"""The fee reminders page (9.2.2): a supervisor pastes the households in arrears; the batch shows each
reminder's proof, and staff record the calls made to the households not reached in WeChat."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.console.fee_reminders import household_rows
from api.errors import Unprocessable
from tests.api.conftest import Browser
from tests.api.test_fee_reminders import resident

LIST = "地址,电话,欠费金额\n阳光小区3号楼2单元502,,960.5\n和平小区1号楼1单元101,13900000009,640"


def test_a_supervisor_sends_the_reminders_and_an_agent_records_the_call(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    resident(client, auth, "oFEE2", "阳光小区3号楼2单元502")
    agent, boss = browser("agent"), browser("supervisor")
    assert "发送催费通知" not in agent.get("/console/fee-reminders").text
    assert agent.post("/console/fee-reminders", {"pay_by": "2026-12-31", "households": LIST}).status_code == 403
    sent = boss.post("/console/fee-reminders", {"pay_by": "2026-12-31", "households": LIST})
    assert sent.status_code == 200, sent.text
    assert "共 2 条催费记录；待电话催费 1 户" in sent.text and "住户没有关注公众号" in sent.text
    row = sent.text.split('data-reminder="')[2].split('"')[0]
    called = agent.post(f"/console/fee-reminders/{row}/called", {"note": "户主接听，答应月底前交"})
    assert called.status_code == 200 and "待电话催费 0 户" in called.text and "户主接听" in called.text


def test_a_pasted_line_without_its_sum_names_its_line() -> None:
    assert household_rows("阳光小区3号楼2单元501,,100") == [
        {"address": "阳光小区3号楼2单元501", "phone": None, "amount": "100"}
    ]
    with pytest.raises(Unprocessable, match="第2行"):
        household_rows("地址,电话,欠费金额\n阳光小区3号楼2单元501,13800000000")
