"""The outages page, /console/outages: outages reported, updated and restored, with their notices (6.3.1)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.console.orders import local_input
from api.console.pages import Desk, DeskDep, WritingDeskDep, validated
from api.deps import IdPath
from api.errors import Unprocessable
from api.schemas import OutageCreate, OutageUpdate
from api.services import deliveries, outages
from api.views import labels
from heating_standard import notices

router = APIRouter()

RECENT_OUTAGE_DAYS = 30
# The notices of an outage shown, each checked with the WeChat channel (one read per resident).
NOTICES_SHOWN = 100


def _outages(desk: Desk) -> dict[str, Any]:
    rows = outages.recent(desk.session, desk.now - timedelta(days=RECENT_OUTAGE_DAYS))
    return {"outages": rows, "causes": notices.CAUSES}


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
    preview = outages.preview_outage(desk.session, _outage_form(desk.form), desk.operator_config.seasons())
    return desk.render("_outage_preview.html", preview=preview)


@router.post("/outages", response_class=HTMLResponse)
def create_outage(desk: WritingDeskDep) -> HTMLResponse:
    outages.create_outage(
        desk.session, _outage_form(desk.form), desk.principal, desk.now, desk.operator_config.seasons()
    )
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
    outage = outages.get(desk.session, outage_id)
    shown, total = outages.notices_of(desk.session, outage_id, NOTICES_SHOWN)
    rows, answered = deliveries.notice_deliveries(shown, desk.bot)
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
