"""Announcements to every follower (5.2.5, 6.1.1, 9.2.1), under /api/v1/announcements: a supervisor
previews, drafts, approves, cancels and settles them; the scheduler sends them (api.services.announcements)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth import STAFF, SUPERVISORS, PrincipalDep
from api.deps import BotDep, IdPath, NowDep, OperatorDep, SessionDep
from api.schemas import AnnouncementCreate, AnnouncementList, AnnouncementPreview, AnnouncementPublic
from api.services import announcements

router = APIRouter(prefix="/announcements", tags=["announcements"])


@router.get("", response_model=AnnouncementList, dependencies=[STAFF])
def list_announcements(session: SessionDep) -> AnnouncementList:
    return AnnouncementList(items=[AnnouncementPublic.model_validate(a) for a in announcements.listed(session)])


@router.post("/preview", response_model=AnnouncementPreview, dependencies=[SUPERVISORS])
def preview(
    body: AnnouncementCreate, session: SessionDep, config: OperatorDep, bot: BotDep, now: NowDep
) -> AnnouncementPreview:
    """The text residents would receive, how many follow now, and the scheduled month's mass-sends used."""
    return announcements.preview(session, body, config, bot, now)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AnnouncementPublic, dependencies=[SUPERVISORS])
def create(
    body: AnnouncementCreate, session: SessionDep, config: OperatorDep, principal: PrincipalDep, now: NowDep
) -> AnnouncementPublic:
    """A draft, composed from the operator's facts; nothing is sent before it is approved."""
    return AnnouncementPublic.model_validate(announcements.create(session, body, config, principal, now))


@router.post("/{announcement_id}/approve", response_model=AnnouncementPublic, dependencies=[SUPERVISORS])
def approve(
    announcement_id: IdPath, session: SessionDep, principal: PrincipalDep, bot: BotDep, now: NowDep
) -> AnnouncementPublic:
    """Sent at its time; 409 when its month's four mass-sends are spent."""
    return AnnouncementPublic.model_validate(announcements.approve(session, announcement_id, principal, bot, now))


@router.post("/{announcement_id}/cancel", response_model=AnnouncementPublic, dependencies=[SUPERVISORS])
def cancel(announcement_id: IdPath, session: SessionDep, principal: PrincipalDep, now: NowDep) -> AnnouncementPublic:
    return AnnouncementPublic.model_validate(announcements.cancel(session, announcement_id, principal, now))


@router.post("/{announcement_id}/sent", response_model=AnnouncementPublic, dependencies=[SUPERVISORS])
def confirm_sent(
    announcement_id: IdPath, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> AnnouncementPublic:
    """An unconfirmed sending found in the platform's record: it went out."""
    return AnnouncementPublic.model_validate(announcements.settle(session, announcement_id, True, principal, now))


@router.post("/{announcement_id}/release", response_model=AnnouncementPublic, dependencies=[SUPERVISORS])
def release(announcement_id: IdPath, session: SessionDep, principal: PrincipalDep, now: NowDep) -> AnnouncementPublic:
    """An unconfirmed sending not in the platform's record: sent again at the next pass, under a new key."""
    return AnnouncementPublic.model_validate(announcements.settle(session, announcement_id, False, principal, now))
