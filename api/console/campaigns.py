"""The call-backs and surveys page, /console/campaigns: a supervisor starts the year's call-back campaign
(10.1.8) or the yearly survey (14.3.2 e); staff call the households not on WeChat and record their answers.
The figures are also shown beside the KPIs (api.console.kpis)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.console.pages import Desk, DeskDep, WritingDeskDep, validated
from api.deps import IdPath
from api.errors import Forbidden
from api.schemas import CampaignAnswer, CampaignCreate
from api.services import campaigns
from api.views import labels

router = APIRouter()


def _page(desk: Desk) -> dict[str, Any]:
    summaries = campaigns.summaries(desk.session)
    calls = {s.id: campaigns.contacts(desk.session, s.id, only_to_phone=True) for s in summaries if s.to_phone}
    return {"campaigns": summaries, "calls": calls, "labels": labels}


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(desk: DeskDep) -> HTMLResponse:
    return desk.render_page("campaigns.html", "_campaigns.html", **_page(desk))


@router.post("/campaigns", response_class=HTMLResponse)
def start(desk: WritingDeskDep) -> HTMLResponse:
    if not desk.principal.may_approve:
        raise Forbidden("回访和调查由班长发起")
    body = validated(CampaignCreate, {"kind": desk.form.get("kind", "")})
    campaigns.start(desk.session, body, desk.operator_config, desk.principal, desk.now)
    return desk.render("_campaigns.html", **_page(desk))


@router.post("/campaigns/contacts/{contact_id}", response_class=HTMLResponse)
def record_call(contact_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    """A household's answer taken by phone, with a note of the call."""
    body = validated(CampaignAnswer, {"rating": desk.form.get("rating", ""), "note": desk.form.get("note", "").strip()})
    campaigns.answer(desk.session, contact_id, body.rating, body.note, None, desk.principal, desk.now)
    return desk.render("_campaigns.html", **_page(desk))
