"""Call-back campaigns (10.1.8) and the yearly survey (14.3.2 e), under /api/v1/campaigns: a supervisor
starts one; the bot records its residents' answers; staff record those they call (api.services.campaigns)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.auth import STAFF, STAFF_OR_MACHINE, SUPERVISORS, PrincipalDep
from api.deps import IdPath, NowDep, OperatorDep, SessionDep
from api.schemas import CampaignAnswer, CampaignContactPublic, CampaignCreate, CampaignList, CampaignSummary
from api.services import campaigns

router = APIRouter(tags=["campaigns"])


@router.post(
    "/campaigns", status_code=status.HTTP_201_CREATED, response_model=CampaignSummary, dependencies=[SUPERVISORS]
)
def start(
    body: CampaignCreate, session: SessionDep, config: OperatorDep, principal: PrincipalDep, now: NowDep
) -> CampaignSummary:
    """Start the year's call-back campaign or survey: its residents on WeChat are asked at once; 409 when it
    was started already this year."""
    campaign = campaigns.start(session, body, config, principal, now)
    return next(s for s in campaigns.summaries(session) if s.id == campaign.id)


@router.get("/campaigns", response_model=CampaignList, dependencies=[STAFF])
def list_campaigns(session: SessionDep) -> CampaignList:
    """Each campaign with its figures: contacts, answers by rating, the share called back and satisfied."""
    return CampaignList(items=campaigns.summaries(session))


@router.get("/campaigns/{campaign_id}/contacts", response_model=list[CampaignContactPublic], dependencies=[STAFF])
def list_contacts(
    campaign_id: IdPath, session: SessionDep, to_phone: Annotated[bool, Query()] = False
) -> list[CampaignContactPublic]:
    """The campaign's contacts, or only those staff must call (not on WeChat, not answered)."""
    return campaigns.contacts(session, campaign_id, to_phone)


@router.post(
    "/campaign-contacts/{contact_id}/answer", response_model=CampaignContactPublic, dependencies=[STAFF_OR_MACHINE]
)
def answer(
    contact_id: IdPath, body: CampaignAnswer, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> CampaignContactPublic:
    """The contact's answer, once: the bot's for its own resident, or staff's after a call (with a note)."""
    contact = campaigns.answer(session, contact_id, body.rating, body.note, body.resident_openid, principal, now)
    return CampaignContactPublic.model_validate(contact)
