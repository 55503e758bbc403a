"""The page of messages residents did not get, /console/undelivered: what the WeChat channel could not
deliver in the last days (no window, no template, unfollowed), for staff to tell by phone and record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.console.pages import Desk, DeskDep, WritingDeskDep, validated
from api.deps import IdPath
from api.schemas import PhonedNotice
from api.services import undelivered
from api.views import labels

router = APIRouter()


def _page(desk: Desk) -> dict[str, Any]:
    found, answered = undelivered.to_phone(desk.session, desk.bot, desk.now)
    return {"items": found, "answered": answered, "labels": labels}


@router.get("/undelivered", response_class=HTMLResponse)
def undelivered_page(desk: DeskDep) -> HTMLResponse:
    return desk.render_page("undelivered.html", "_undelivered.html", **_page(desk))


@router.post("/undelivered/{notification_id}/called", response_class=HTMLResponse)
def record_call(notification_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    call = validated(PhonedNotice, {"note": desk.form.get("note", "").strip()})
    undelivered.record_call(desk.session, notification_id, call.note, desk.principal, desk.now)
    return desk.render("_undelivered.html", **_page(desk))
