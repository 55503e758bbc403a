"""KPIs of 14.4 against Table 1 for a chosen period, week by week through it, and the monthly report."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.console.pages import Desk, DeskDep
from api.errors import Unprocessable
from api.services import bot_figures, campaigns, kpis, reports
from api.views import labels
from heating_standard import kpis as kpi_rules
from heating_standard.deadlines import season_of
from heating_standard.localtime import LOCAL_TZ, local_date

router = APIRouter()

MAX_WEEKS = 40
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Unprocessable(field, "a date such as 2026-12-01") from None


def _period(desk: Desk) -> tuple[date, date]:
    """The chosen days (Beijing dates, both included); by default the season so far, or the last 30 days."""
    today = local_date(desk.now)
    first = _day(desk.request.query_params.get("start"), "start")
    last = _day(desk.request.query_params.get("end"), "end") or today
    if first is None:
        season = season_of(today, desk.operator_config.seasons())
        first = season.start if season else today - timedelta(days=29)
    if last < first:
        raise Unprocessable("end", "the period ends before it starts")
    return first, last


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return datetime.combine(first, time(0), LOCAL_TZ), datetime.combine(last + timedelta(days=1), time(0), LOCAL_TZ)


def _weekly(desk: Desk, first: date, last: date) -> dict[str, Any]:
    """Each KPI's value per week of the period (a week starts on the period's first day)."""
    config = desk.operator_config
    weeks: list[str] = []
    series: dict[str, list[float | None]] = {}
    day = first
    while day <= last and len(weeks) < MAX_WEEKS:
        week_end = min(day + timedelta(days=6), last)
        start, end = _bounds(day, week_end)
        values = kpis.compute(desk.session, start, end, config, desk.now)
        weeks.append(f"{day:%m-%d}")
        for name, ratio in values.items():
            percent = None if ratio.value is None else round(ratio.value * (1000 if ratio.at_most else 100), 2)
            series.setdefault(name, []).append(percent)
        day = week_end + timedelta(days=1)
    return {"weeks": weeks, "series": series}


@router.get("/kpis", response_class=HTMLResponse)
def kpi_page(desk: DeskDep) -> HTMLResponse:
    first, last = _period(desk)
    start, end = _bounds(first, last)
    report = kpis.report(desk.session, start, end, desk.operator_config, desk.now)
    charts = _weekly(desk, first, last)
    names = {name: words for name, (words, _) in kpi_rules.DEFINITIONS.items()}
    targets = {r.name: r.target for r in [*report.kpis, report.callback_coverage, *report.published]}
    # the bot's own figures for the period's last days (at most MAX_DAYS of them), newest first
    days = min((last - first).days + 1, bot_figures.MAX_DAYS)
    bot = bot_figures.daily(desk.session, desk.bot, last, days, desk.now)
    return desk.render(
        "kpis.html",
        report=report,
        first=first,
        last=last,
        charts=charts,
        names=names,
        targets=targets,
        definitions=kpi_rules.DEFINITIONS,
        month=f"{last:%Y-%m}",
        bot_days=list(reversed(bot["days"])),
        bot_unavailable=bot["conversations_unavailable"],
        campaigns=campaigns.summaries(desk.session),
        labels=labels,
    )


@router.get("/kpis/report.xlsx")
def monthly_report(desk: DeskDep) -> Response:
    """The month's report (10.1.9) as an Excel workbook with the figures' definitions on a sheet."""
    raw = desk.request.query_params.get("month") or f"{local_date(desk.now):%Y-%m}"
    try:
        month = date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise Unprocessable("month", "a month such as 2026-12") from None
    content, _, _ = reports.monthly_workbook(desk.session, month, desk.operator_config, desk.now)
    filename = f"heating-service-report-{month:%Y-%m}.xlsx"
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
