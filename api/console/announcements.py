"""The announcements page, /console/announcements: notices to every follower (5.2.5, 6.1.1, 9.2.1), drafted
from the operator's facts with a preview and the followers they reach, approved within the platform's four
mass-sends a month, and settled when the channel could not say whether one went out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.console.orders import local_input
from api.console.pages import Desk, DeskDep, WritingDeskDep, validated
from api.deps import IdPath
from api.errors import Forbidden
from api.schemas import AnnouncementCreate
from api.services import announcements
from api.views import labels
from policies.wechat import MASS_SENDS_PER_MONTH

router = APIRouter()


def _page(desk: Desk) -> dict[str, Any]:
    return {
        "announcements": announcements.listed(desk.session),
        "month_used": announcements.month_used(desk.session, desk.now),
        "month_quota": MASS_SENDS_PER_MONTH,
        "labels": labels,
    }


def _supervisor(desk: Desk) -> None:
    if not desk.principal.may_approve:
        raise Forbidden("公告由班长拟定和批准")


def _form(form: dict[str, str]) -> AnnouncementCreate:
    body: dict[str, Any] = {"kind": form.get("kind", ""), "scheduled_at": local_input(form.get("scheduled_at", ""))}
    for day in ("commissioning_from", "commissioning_to", "price_from"):
        if form.get(day):
            body[day] = form[day]
    return validated(AnnouncementCreate, body)


@router.get("/announcements", response_class=HTMLResponse)
def announcements_page(desk: DeskDep) -> HTMLResponse:
    return desk.render("announcements.html", **_page(desk))


@router.post("/announcements/preview", response_class=HTMLResponse)
def preview(desk: WritingDeskDep) -> HTMLResponse:
    _supervisor(desk)
    shown = announcements.preview(desk.session, _form(desk.form), desk.operator_config, desk.bot, desk.now)
    return desk.render("_announcement_preview.html", preview=shown)


@router.post("/announcements", response_class=HTMLResponse)
def create(desk: WritingDeskDep) -> HTMLResponse:
    _supervisor(desk)
    announcements.create(desk.session, _form(desk.form), desk.operator_config, desk.principal, desk.now)
    return desk.render("_announcements_table.html", **_page(desk))


@router.post("/announcements/{announcement_id}/{step}", response_class=HTMLResponse)
def step(announcement_id: IdPath, step: str, desk: WritingDeskDep) -> HTMLResponse:
    """批准 (approve), 取消 (cancel), and for a sending of unknown fate 已核实发出 (sent) or 未发出，重新发送
    (release): the API's rules."""
    _supervisor(desk)
    if step == "approve":
        announcements.approve(desk.session, announcement_id, desk.principal, desk.bot, desk.now)
    elif step == "cancel":
        announcements.cancel(desk.session, announcement_id, desk.principal, desk.now)
    elif step in ("sent", "release"):
        announcements.settle(desk.session, announcement_id, step == "sent", desk.principal, desk.now)
    else:
        raise Forbidden(f"no such step: {step}")
    return desk.render("_announcements_table.html", **_page(desk))
