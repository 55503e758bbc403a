"""The monthly report (10.1.9: hotline handling is reviewed and announced every month) as an Excel
workbook: the KPIs of 14.4 with their definitions, and the month's hotline orders against their return
and reply deadlines (10.1.3, 10.1.4). Every row goes through ``api.views.sheets.append_row``: a text is
a text cell, never a formula, whatever a hotline file put in it."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import WorkOrder
from api.schemas import KpiReport
from api.services import deadline_watch, kpis
from api.views import labels
from api.views.sheets import append_row
from heating_standard import kpis as kpi_rules
from heating_standard.deadlines import HOTLINE_WINDOWS
from heating_standard.localtime import LOCAL_TZ
from heating_standard.operator import OperatorFile
from heating_standard.orders import Source, Status

# The hotline platforms the review covers, as staff name them.
SOURCE_WORDS = {source: labels.SOURCES[source] for source in HOTLINE_WINDOWS}
OUTCOMES = ("按时答复", "超时答复", "超时未答复", "未到期", "已回退", "已撤销")


@dataclass(frozen=True)
class HotlineLine:
    """One hotline order of the month and how its reply deadline went."""

    order: WorkOrder
    reply_due_at: datetime | None
    replied_at: datetime | None
    outcome: str


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month in Beijing time, as [start, end)."""
    start = datetime.combine(month.replace(day=1), time(0), LOCAL_TZ)
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, datetime.combine(following, time(0), LOCAL_TZ)


def hotline_lines(session: Session, start: datetime, end: datetime, now: datetime) -> list[HotlineLine]:
    sources = [s.value for s in HOTLINE_WINDOWS]
    orders = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.source.in_(sources), WorkOrder.accepted_at >= start, WorkOrder.accepted_at < end)
        .order_by(WorkOrder.accepted_at, WorkOrder.id)
    ).all()
    lines = []
    for order in orders:
        reply = deadline_watch.named(order, "reply")
        due = reply.due_at if reply else None
        met = reply.met_at if reply else None
        if order.status == Status.RETURNED.value:
            outcome = "已回退"
        elif order.status == Status.CANCELLED.value:
            outcome = "已撤销"
        elif met is not None:
            outcome = "按时答复" if due is None or met <= due else "超时答复"
        else:
            outcome = "超时未答复" if due is not None and due < now else "未到期"
        lines.append(HotlineLine(order, due, met, outcome))
    return lines


def monthly_workbook(
    session: Session, month: date, config: OperatorFile, now: datetime
) -> tuple[bytes, KpiReport, list[HotlineLine]]:
    start, end = month_bounds(month)
    report = kpis.report(session, start, end, config, now)
    lines = hotline_lines(session, start, end, now)
    book = Workbook()
    _kpi_sheet(book, report, month)
    _review_sheet(book, lines)
    _lines_sheet(book, lines)
    _definitions_sheet(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), report, lines


HEAD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="EEF1F5")


def _header(sheet: object, titles: list[str], widths: list[int]) -> None:
    append_row(sheet, titles)
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(row=sheet.max_row, column=index)  # type: ignore[attr-defined]
        cell.font, cell.fill = HEAD, HEAD_FILL
        sheet.column_dimensions[cell.column_letter].width = width  # type: ignore[attr-defined]


def _kpi_sheet(book: Workbook, report: KpiReport, month: date) -> None:
    sheet = book.active
    assert sheet is not None
    sheet.title = "服务指标"
    append_row(sheet, [f"{month.year}年{month.month}月 供热服务指标（14.4，表1）"])
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    append_row(sheet, ["统计期（北京时间）", f"{_local(report.start)} 至 {_local(report.end)}（不含）"])
    append_row(sheet, [])
    titles = ["指标", "条款", "分子", "分母", "其中未到期", "数值", "目标", "是否达标"]
    _header(sheet, titles, [24, 8, 14, 14, 12, 10, 10, 10])
    for value in [*report.kpis, report.callback_coverage, *report.published]:
        words = kpi_rules.DEFINITIONS.get(value.name, (value.name, ""))[0]
        nothing_due = value.denominator > 0 and value.denominator == value.pending
        met = "未到期" if nothing_due else "—" if value.met is None else ("达标" if value.met else "未达标")
        row = [words, value.clause, value.numerator, value.denominator, value.pending, value.value, value.target, met]
        append_row(sheet, row)
        sheet.cell(row=sheet.max_row, column=6).number_format = "0.00%"
    append_row(sheet, [])
    append_row(sheet, ["数值 = 分子 ÷（分母 − 其中未到期）：时限未到、尚未办结或回访的不算未达标。"])
    append_row(sheet, ["没有到期的项时，数值留空，结论为“未到期”。"])
    append_row(sheet, ["各指标口径见“口径说明”。"])


def _review_sheet(book: Workbook, lines: list[HotlineLine]) -> None:
    sheet = book.create_sheet("热线考核")
    _header(sheet, ["来源", "受理", *OUTCOMES, "延期", "按时答复率"], [16, 8, 10, 10, 12, 8, 8, 8, 8, 12])
    by_source: dict[str, Counter[str]] = {}
    for line in lines:
        counter = by_source.setdefault(line.order.source, Counter())
        counter[line.outcome] += 1
        counter["受理"] += 1
        counter["延期"] += int(bool(line.order.extended))
    for source, words in SOURCE_WORDS.items():
        counter = by_source.get(source.value, Counter())
        answered = counter["按时答复"] + counter["超时答复"] + counter["超时未答复"]
        rate = counter["按时答复"] / answered if answered else None
        append_row(sheet, [words, counter["受理"], *[counter[o] for o in OUTCOMES], counter["延期"], rate])
        sheet.cell(row=sheet.max_row, column=len(OUTCOMES) + 4).number_format = "0.0%"
    append_row(sheet, [])
    append_row(sheet, ["按时答复率 = 按时答复 ÷（按时答复 + 超时答复 + 超时未答复）；回退、撤销和未到期的不计。"])


def _lines_sheet(book: Workbook, lines: list[HotlineLine]) -> None:
    sheet = book.create_sheet("热线工单明细")
    titles = ["工单号", "平台工单号", "来源", "原始受理", "回退时限", "答复时限", "答复时间", "延期", "状态", "结论"]
    _header(sheet, titles, [18, 20, 14, 17, 17, 17, 17, 6, 10, 12])
    for line in lines:
        o = line.order
        append_row(
            sheet,
            [
                o.number,
                o.external_reference,
                SOURCE_WORDS.get(Source(o.source), o.source),
                _local(o.accepted_at),
                _local(deadline_watch.due_at(o, "return")),
                _local(line.reply_due_at),
                _local(line.replied_at),
                "是" if o.extended else "",
                o.status,
                line.outcome,
            ],
        )


def _definitions_sheet(book: Workbook) -> None:
    sheet = book.create_sheet("口径说明")
    _header(sheet, ["指标", "口径"], [24, 110])
    for words, definition in kpi_rules.DEFINITIONS.values():
        append_row(sheet, [words, definition])
        sheet.cell(row=sheet.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    append_row(
        sheet,
        [
            "热线答复",
            "答复时限按来源和原始受理时间计算（10.1.3、10.1.4）：办结或回退即视为答复；延期一次后按延长的时限。",
        ],
    )
    append_row(sheet, ["时间", "所有时间均为北京时间；统计期按工单受理时间（停热按与统计期重叠的时长）计。"])


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""
