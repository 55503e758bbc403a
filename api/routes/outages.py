"""Outages under /api/v1 (6.3.1): previewed, reported, updated and listed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.auth import STAFF, STAFF_OR_MACHINE, PrincipalDep
from api.deps import IdPath, NowDep, OperatorDep, SessionDep
from api.schemas import (
    OutageCreate,
    OutageList,
    OutagePreview,
    OutagePublic,
    OutageUpdate,
)
from api.services import outages

router = APIRouter()


@router.post("/outages/preview", response_model=OutagePreview, tags=["outages"], dependencies=[STAFF])
def preview_outage(body: OutageCreate, session: SessionDep, config: OperatorDep) -> OutagePreview:
    """The notice residents would receive, and how many; nothing is stored or sent."""
    return outages.preview_outage(session, body, config.seasons())


@router.post(
    "/outages",
    status_code=status.HTTP_201_CREATED,
    response_model=OutagePublic,
    tags=["outages"],
    dependencies=[STAFF],
)
def create_outage(
    body: OutageCreate, session: SessionDep, now: NowDep, principal: PrincipalDep, config: OperatorDep
) -> OutagePublic:
    """Record an outage; over 24 h expected, or in an area told of an earlier outage this season ("再次停热"),
    residents of the communities are notified (6.3.1), which needs a supervisor."""
    return OutagePublic.model_validate(outages.create_outage(session, body, principal, now, config.seasons()))


@router.patch("/outages/{outage_id}", response_model=OutagePublic, tags=["outages"], dependencies=[STAFF])
def update_outage(
    outage_id: IdPath, body: OutageUpdate, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> OutagePublic:
    """Extend (residents are told again: a supervisor) or mark restored."""
    return OutagePublic.model_validate(outages.update_outage(session, outage_id, body, principal, now))


@router.get("/outages", response_model=OutageList, tags=["outages"], dependencies=[STAFF_OR_MACHINE])
def list_outages(
    session: SessionDep, now: NowDep, community: Annotated[str | None, Query(max_length=64)] = None
) -> OutageList:
    """Active outages, for one community when given."""
    return OutageList(items=[OutagePublic.model_validate(o) for o in outages.active_outages(session, now, community)])
