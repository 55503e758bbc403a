"""Call-backs due and overdue (10.1.6, 10.1.7) and outages with their notices (6.3.1)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from api.console.orders import local_input
from api.console.pages import Desk, DeskDep, WritingDeskDep, validated
from api.domain import labels
from api.errors import Forbidden, NotFound, Unprocessable
from api.models import Notification, Outage, WorkOrder
from api.routes.deps import IdPath
from api.schemas import OutageCreate, OutageUpdate
from api.services import callbacks, deliveries, outages
from heating_standard import notices
from heating_standard.localtime import end_of_local_day, local_date

router = APIRouter()

RECENT_OUTAGE_DAYS = 30
# The notices of an outage shown, each checked with the WeChat channel (one read per resident).
NOTICES_SHOWN = 100


# ------------------------------------------------------------------------------ call-backs


def _callbacks(desk: Desk) -> dict[str, Any]:
    """Every open call-back, soonest due first: those due by the end of today, then those due later (a
    survey may go out as soon as the order is completed: it need not wait for the due day)."""
    tasks, total = callbacks.list_callbacks(desk.session, "open", desk.now)
    end_of_today = end_of_local_day(local_date(desk.now))
    orders = {
        o.id: o for o in desk.session.scalars(select(WorkOrder).where(WorkOrder.id.in_([t.order_id for t in tasks])))
    }
    rows = [
        {"t": t, "o": orders[t.order_id], "overdue": t.due_at < desk.now, "today": t.due_at <= end_of_today}
        for t in sorted(tasks, key=lambda t: t.due_at)
    ]
    return {"rows": rows, "total": total, "labels": labels}


@router.get("/callbacks", response_class=HTMLResponse)
def callbacks_page(desk: DeskDep) -> HTMLResponse:
    return desk.render("callbacks.html", **_callbacks(desk))


@router.post("/callbacks/{task_id}/survey", response_class=HTMLResponse)
def send_survey(task_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """A supervisor asks the bot to run the satisfaction survey on WeChat (the API's rule)."""
    if not desk.principal.may_approve:
        raise Forbidden("only a supervisor sends the WeChat survey")
    callbacks.send_survey(desk.session, task_id, desk.request.app.state.bot, desk.now, desk.principal.name)
    return desk.render("_callbacks_table.html", **_callbacks(desk))


# ------------------------------------------------------------------------------ outages


def _outages(desk: Desk) -> dict[str, Any]:
    since = desk.now - timedelta(days=RECENT_OUTAGE_DAYS)
    rows = desk.session.scalars(
        select(Outage)
        .where((Outage.restored_at.is_(None)) | (Outage.restored_at > since))
        .order_by(Outage.started_at.desc())
        .limit(100)
    )
    return {"outages": list(rows), "causes": notices.CAUSES}


@router.get("/outages", response_class=HTMLResponse)
def outages_page(desk: DeskDep) -> HTMLResponse:
    return desk.render("outages.html", **_outages(desk))


def _outage_form(form: dict[str, str]) -> OutageCreate:
    communities = [c.strip() for c in form.get("communities", "").replace("，", ",").replace("、", ",").split(",")]
    body = {
        "communities": [c for c in communities if c],
        "heated_area_m2": form.get("heated_area_m2") or "0",
        "started_at": local_input(form.get("started_at", "")),
        "expected_restoration_at": local_input(form.get("expected_restoration_at", "")),
        "cause_code": form.get("cause_code", ""),
        "cause_note": form.get("cause_note") or None,
        "repair_location": form.get("repair_location", ""),
    }
    created: OutageCreate = validated(OutageCreate, body)
    return created


@router.post("/outages/preview", response_class=HTMLResponse)
def preview_outage(desk: WritingDeskDep) -> HTMLResponse:
    preview = outages.preview_outage(desk.session, _outage_form(desk.form))
    return desk.render("_outage_preview.html", preview=preview)


@router.post("/outages", response_class=HTMLResponse)
def create_outage(desk: WritingDeskDep) -> HTMLResponse:
    outages.create_outage(desk.session, _outage_form(desk.form), desk.principal, desk.now)
    return desk.render("_outages_table.html", **_outages(desk))


@router.post("/outages/{outage_id}", response_class=HTMLResponse)
def update_outage(outage_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """Extend (a new expected restoration, which re-notifies residents) or record the restoration."""
    body: dict[str, Any] = {}
    for field in ("expected_restoration_at", "restored_at"):
        if desk.form.get(field):
            body[field] = local_input(desk.form[field])
    if not body:
        raise Unprocessable("expected_restoration_at", "give a new expected restoration or the restoration time")
    outages.update_outage(desk.session, outage_id, validated(OutageUpdate, body), desk.principal, desk.now)
    return desk.render("_outages_table.html", **_outages(desk))


@router.get("/outages/{outage_id}/notices", response_class=HTMLResponse)
def outage_notices(outage_id: IdPath, desk: DeskDep) -> HTMLResponse:
    """Who was told, and what became of each message: the WeChat channel's word, not the backend's."""
    outage = desk.session.get(Outage, outage_id)
    if outage is None:
        raise NotFound(f"outage {outage_id} does not exist")
    query = select(Notification).where(Notification.outage_id == outage_id).order_by(Notification.id)
    total = desk.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    shown = list(desk.session.scalars(query.limit(NOTICES_SHOWN)))
    rows, answered = deliveries.notice_deliveries(shown, desk.request.app.state.bot)
    states = Counter(labels.words(labels.DELIVERIES, r.delivery.state) for r in rows)
    return desk.render(
        "_outage_notices.html",
        outage=outage,
        rows=rows,
        total=total,
        shown=NOTICES_SHOWN,
        states=states,
        answered=answered,
        labels=labels,
        masked=_masked_openid,
    )


def _masked_openid(openid: str | None) -> str:
    if not openid:
        return ""
    return f"{openid[:4]}…{openid[-4:]}" if len(openid) > 10 else "****"
